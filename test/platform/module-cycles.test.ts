import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';

// The same rules as `npm run lint:deps` (.dependency-cruiser.cjs).
const require = createRequire(import.meta.url);
const ruleSet = require('../../.dependency-cruiser.cjs') as IConfiguration;

async function violations(baseDir: string): Promise<string[]> {
  const { output } = await cruise(['src'], { ...ruleSet.options, ruleSet, validate: true, baseDir, tsConfig: undefined, tsPreCompilationDeps: true });
  const result = output as ICruiseResult;
  return result.summary.violations.map((v) => `${v.rule.name}: ${[v.from, ...(v.cycle ?? []).map((c) => c.name)].join(' -> ')}`);
}

describe('module dependencies run one way', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'module-cycles-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('has no cycle between the feature folders of src/modules', async () => {
    expect(await violations(process.cwd())).toEqual([]);
  }, 60_000);

  it('reports a cycle between two feature folders, even when no file imports itself back', async () => {
    const file = (path: string, text: string) => {
      mkdirSync(join(scratch, path, '..'), { recursive: true });
      writeFileSync(join(scratch, path), text);
    };
    file('src/modules/alpha/alpha.service.ts', "import { b } from '../beta/beta.type.js';\nexport const a = b;\n");
    file('src/modules/alpha/alpha.type.ts', 'export const alphaType = 1;\n');
    file('src/modules/beta/beta.type.ts', 'export const b = 2;\n');
    file('src/modules/beta/beta.service.ts', "import { alphaType } from '../alpha/alpha.type.js';\nexport const c = alphaType;\n");
    const found = await violations(scratch);
    expect(found.some((v) => v.startsWith('no-cycle-between-modules'))).toBe(true);
  }, 60_000);
});
