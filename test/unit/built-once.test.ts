import { inArray, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { builtOnce } from '../../src/db/sql.js';
import { conversations } from '../../src/modules/conversations/conversations.schema.js';
import { ingestBatchStatementForTests } from '../../src/modules/inbound/inbound-batch.repository.js';

const dialect = new PgDialect();

/** A template written once for both: with placeholders (builtOnce) or with the values in place. */
function template(tenantId: unknown, limit: unknown, body: unknown) {
  return sql`
    select ${conversations.id} from ${conversations}
    where ${conversations.tenantId} = ${tenantId}::uuid and ${inArray(sql`${conversations.status}`, ['OPEN', 'PENDING'])}
      and ${conversations.lastMessageId} is distinct from ${tenantId}::uuid and ${body} <> '' limit ${limit}`;
}

describe('builtOnce: a statement rendered by drizzle once, then run with new values', () => {
  type Name = 'tenantId' | 'limit' | 'body';
  const once = builtOnce<Name>(() => template(sql.placeholder('tenantId'), sql.placeholder('limit'), sql.placeholder('body')));

  it('gives the text and parameters drizzle gives for the same values, call after call', () => {
    const cases: Array<[string, number, string]> = [['t-1', 5, 'a'], ['t-2', 50, '$1 not a parameter'], ['t-3', 0, '']];
    for (const [tenantId, limit, body] of cases) {
      const direct = dialect.sqlToQuery(template(tenantId, limit, body));
      const rendered = dialect.sqlToQuery(once({ tenantId, limit, body }));
      expect(rendered.sql).toBe(direct.sql);
      expect(rendered.params).toEqual(direct.params);
    }
  });

  it('keeps the constants of the template (a list of enum values) among the parameters', () => {
    expect(dialect.sqlToQuery(once({ tenantId: 't-9', limit: 1, body: 'b' })).params).toEqual(['t-9', 'OPEN', 'PENDING', 't-9', 'b', 1]);
  });

  it('refuses dollar signs it cannot tell from parameters', () => {
    const dollar = builtOnce<'a'>(() => sql`select $2, ${sql.placeholder('a')}`);
    expect(() => dollar({ a: 'x' })).toThrow(/numbering/);
  });

  it('the ingest batch statements: the same text and parameters as its template with the rows in place', () => {
    const rows = JSON.stringify([{ idx: 0, t: 'tenant', body: 'hello $1' }]);
    const variants = ingestBatchStatementForTests(rows);
    for (const { builtOnce: viaOnce, direct } of [variants.lean, variants.full]) {
      const a = dialect.sqlToQuery(viaOnce);
      const b = dialect.sqlToQuery(direct);
      expect(a.sql).toBe(b.sql);
      expect(a.params).toEqual(b.params);
      expect(a.params[0]).toBe(rows);
    }
    // The lean statement is the full one without the media jobs and the blocked contact's branch.
    const lean = dialect.sqlToQuery(variants.lean.direct).sql;
    const full = dialect.sqlToQuery(variants.full.direct).sql;
    for (const cte of ['media_jobs as', 'blocked_latest as', 'blocked_kept as', 'blocked_opened as']) {
      expect(full).toContain(cte);
      expect(lean).not.toContain(cte);
    }
  });
});
