import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildSchema, findBreakingChanges } from 'graphql';
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
});
