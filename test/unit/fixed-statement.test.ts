import { inArray, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { fixedStatement } from '../../src/db/fixed-statement.js';
import { conversations } from '../../src/modules/conversations/conversations.schema.js';
import { ingestBatchStatementForTests } from '../../src/modules/inbound/inbound-batch.repository.js';

const dialect = new PgDialect();

describe('fixedStatement: a template compiled once, run with new values', () => {
  const build = (tenantId: string, limit: number, body: string) => sql`
    select ${conversations.id} from ${conversations}
    where ${conversations.tenantId} = ${tenantId}::uuid and ${inArray(sql`${conversations.status}`, ['OPEN', 'PENDING'])}
      and ${conversations.lastMessageId} is distinct from ${tenantId}::uuid and ${body} <> '' limit ${limit}`;
  const fixed = fixedStatement(build);

  it('gives the text and parameters drizzle gives for the same values, call after call', () => {
    const cases: Array<[string, number, string]> = [['t-1', 5, 'a'], ['t-2', 50, '$1 not a parameter'], ['t-3', 0, '']];
    for (const values of cases) {
      const direct = dialect.sqlToQuery(build(...values));
      const compiled = dialect.sqlToQuery(fixed(...values));
      expect(compiled.sql).toBe(direct.sql);
      expect(compiled.params).toEqual(direct.params);
    }
  });

  it('keeps the constants of the template (a list of enum values) among the parameters', () => {
    const q = dialect.sqlToQuery(fixed('t-9', 1, 'b'));
    expect(q.params).toEqual(['t-9', 'OPEN', 'PENDING', 't-9', 'b', 1]);
  });

  it('refuses a template that does not use every argument as a parameter', () => {
    const unused = fixedStatement((a: string, _b: string) => sql`select ${a}`);
    expect(() => unused('x', 'y')).toThrow(/every argument/);
  });

  it('refuses dollar signs it cannot tell from parameters', () => {
    const dollar = fixedStatement((a: string) => sql`select $2, ${a}`);
    expect(() => dollar('x')).toThrow(/unexpected/);
  });

  it('the ingest batch statement: the same text and parameters as its template built directly', () => {
    const rows = JSON.stringify([{ idx: 0, t: 'tenant', body: 'hello $1' }]);
    const { fixed: viaFixed, direct } = ingestBatchStatementForTests(rows);
    const a = dialect.sqlToQuery(viaFixed);
    const b = dialect.sqlToQuery(direct);
    expect(a.sql).toBe(b.sql);
    expect(a.params).toEqual(b.params);
    expect(a.params[0]).toBe(rows);
  });
});
