import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { RowLoader } from '../../src/graphql/context.js';
import { required } from '../../src/graphql/loaders.js';

interface Row {
  id: string;
  name: string;
}

/** A loader over a fixed table that records each batch it was asked for. */
function loaderOver(table: Row[]) {
  const batches: string[][] = [];
  const loader = new RowLoader<Row>(async (ids) => {
    batches.push([...ids]);
    return ids.map((id) => table.find((r) => r.id === id) ?? null);
  });
  return { loader, batches };
}

describe('RowLoader', () => {
  it('answers rows it was told about at once, without a fetch, and batches the others', async () => {
    const { loader, batches } = loaderOver([{ id: 'b', name: 'from the table' }]);
    const joined = { id: 'a', name: 'from the page' };
    loader.known([joined]);

    // The very row, not a promise: graphql-js completes the field synchronously.
    expect(loader.loadNow('a')).toBe(joined);
    const unknown = loader.loadNow('b');
    expect(unknown).toBeInstanceOf(Promise);
    expect(await unknown).toEqual({ id: 'b', name: 'from the table' });
    // load() finds the known row in DataLoader's cache too.
    expect(await loader.load('a')).toBe(joined);
    expect(batches).toEqual([['b']]);
  });

  it('a row told after a load of the same id replaces it, for load() as for loadNow()', async () => {
    const { loader, batches } = loaderOver([{ id: 'a', name: 'stored' }]);
    expect(await loader.load('a')).toEqual({ id: 'a', name: 'stored' });
    const fresher = { id: 'a', name: 'from the page' };
    loader.known([fresher]);
    expect(loader.loadNow('a')).toBe(fresher);
    expect(await loader.load('a')).toBe(fresher);
    expect(batches).toEqual([['a']]);
  });

  it('forgets a known row when cleared, so the next read fetches it', async () => {
    const { loader, batches } = loaderOver([{ id: 'a', name: 'stored' }]);
    loader.known([{ id: 'a', name: 'stale' }]);
    loader.clear('a');
    expect(await loader.loadNow('a')).toEqual({ id: 'a', name: 'stored' });
    loader.known([{ id: 'a', name: 'stale' }]);
    loader.clearAll();
    expect(await loader.loadNow('a')).toEqual({ id: 'a', name: 'stored' });
    expect(batches).toEqual([['a'], ['a']]);
  });
});

describe('required', () => {
  it('passes a present row through as it came (at once or as a promise) and refuses a missing one', async () => {
    const row = { id: 'a', name: 'x' };
    expect(required(row, () => 'missing')).toBe(row);
    expect(await required(Promise.resolve(row), () => 'missing')).toBe(row);
    expect(() => required(null, () => 'contact a is missing')).toThrow('contact a is missing');
    await expect(required(Promise.resolve(null), () => 'contact a is missing')).rejects.toThrow('contact a is missing');
  });
});
