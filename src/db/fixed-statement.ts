import { Param, SQL, sql, type SQLChunk } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';

/** Where an argument goes, while the text is built. */
class Slot {
  constructor(readonly index: number) {}
}

const dialect = new PgDialect();

interface Compiled {
  /** The SQL text between parameters (one more piece than parameters). */
  pieces: SQL[];
  /** Per parameter, in text order: an argument's position, or a constant of the template. */
  params: Array<Slot | { constant: unknown }>;
}

/**
 * A statement whose SQL text never changes, only its parameters, written as a drizzle template.
 * drizzle walks a template's every chunk (tables, columns, identifiers, fragments) each time it
 * runs; for the ingest batch, a few hundred chunks per batch, that walk was about a tenth of the
 * server's CPU per webhook (issue 16, bench profile). Here `build` runs once, on stand-ins for its
 * arguments, drizzle turns that into text, and each call only sets the values between the pieces
 * of the text: the same text and the same parameters as `build(...values)` would give.
 *
 * `build` may use its arguments only as parameter values (`${value}`): never inspect, spread or
 * branch on them (a stand-in is not the value). Values of the template that are not arguments
 * (constants, lists of enum values) are kept as they were compiled.
 */
export function fixedStatement<A extends unknown[]>(build: (...values: A) => SQL): (...values: A) => SQL {
  let compiled: Compiled | null = null;
  return (...values: A): SQL => {
    compiled ??= compile(build as unknown as (...stands: Slot[]) => SQL, values.length);
    const chunks: SQLChunk[] = [compiled.pieces[0]!];
    compiled.params.forEach((p, i) => {
      chunks.push(new Param(p instanceof Slot ? values[p.index] : p.constant), compiled!.pieces[i + 1]!);
    });
    return new SQL(chunks);
  };
}

function compile(build: (...stands: Slot[]) => SQL, arity: number): Compiled {
  const stands = Array.from({ length: arity }, (_, i) => new Slot(i));
  const query = dialect.sqlToQuery(build(...stands));
  const texts: string[] = [];
  let last = 0;
  let expected = 1;
  for (const m of query.sql.matchAll(/\$(\d+)/g)) {
    // Parameters are numbered in text order; anything else with a $ (dollar quoting) is refused.
    if (Number(m[1]) !== expected++) throw new Error(`fixedStatement: unexpected "${m[0]}" in the statement text`);
    texts.push(query.sql.slice(last, m.index));
    last = m.index! + m[0].length;
  }
  texts.push(query.sql.slice(last));
  if (texts.length !== query.params.length + 1) throw new Error('fixedStatement: parameters and placeholders differ');
  const used = new Set<number>();
  const params = query.params.map((p) => {
    if (p instanceof Slot) {
      used.add(p.index);
      return p;
    }
    return { constant: p };
  });
  if (used.size !== arity) throw new Error('fixedStatement: every argument must be a parameter of the statement');
  return { pieces: texts.map((t) => sql.raw(t)), params };
}
