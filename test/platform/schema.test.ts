import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildSchema, findBreakingChanges } from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import { describe, expect, it } from 'vitest';
import { buildAppSchema, printAppSchema } from '../../src/graphql/schema.js';

const root = resolve(import.meta.dirname, '../..');
// The shared contract beside the repository is the source of truth; the snapshot is for clones without it.
const sharedContract = resolve(root, '../shared/contract.graphql');
const contractPath = existsSync(sharedContract) ? sharedContract : resolve(root, 'test/contract.snapshot.graphql');

describe('schema', () => {
  it('schema.graphql is what the code builds (run `npm run schema:emit` after changing the API)', async () => {
    const built = printAppSchema(await buildAppSchema());
    expect(readFileSync(resolve(root, 'schema.graphql'), 'utf8')).toBe(built);
  });

  it('the emitted schema honours the public contract (no breaking change)', () => {
    const contract = buildSchema(readFileSync(contractPath, 'utf8'));
    const emitted = buildSchema(readFileSync(resolve(root, 'schema.graphql'), 'utf8'));
    const breaking = findBreakingChanges(contract, emitted).map((c) => `${c.type}: ${c.description}`);
    expect(breaking).toEqual([]);
  });

  // Every object type is declared with simpleResolvers: its plain fields are read by graphql's
  // default resolver instead of a type-graphql wrapper per field per row (~2% of the server's CPU
  // on an inbox page; issue 16). The wrapper is what runs field middlewares and @Authorized, so
  // none may be declared on such a field: they would be skipped without a word.
  it('object types use simple resolvers, and no plain field has a middleware or roles they would skip', async () => {
    await buildAppSchema();
    const storage = getMetadataStorage();
    const objectTypes = storage.objectTypes.filter((t) => t.fields && t.fields.length > 0);
    expect(objectTypes.length).toBeGreaterThan(40);
    expect(objectTypes.filter((t) => t.simpleResolvers !== true).map((t) => t.name)).toEqual([]);
    const guarded = objectTypes.flatMap((t) =>
      (t.fields ?? []).filter((f) => (f.middlewares?.length ?? 0) > 0 || (f.roles?.length ?? 0) > 0 || f.name !== f.schemaName).map((f) => `${t.name}.${f.schemaName}`),
    );
    expect(guarded).toEqual([]);
  });
});
