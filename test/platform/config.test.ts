import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const root = resolve(import.meta.dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'sms-inbox-config-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', DATA_DIR: join(scratch, 'data'), LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stderr });
    });
  });
}

describe('configuration', () => {
  // loadConfig itself (fast); main.ts turns a ConfigError into one line and exit code 1 (the process check below).
  it.each([
    [{ PORT: 'abc' }, /^Invalid PORT \(got "abc"\)/],
    [{ DATABASE_URL: 'not a url' }, /^Invalid DATABASE_URL: must be a postgres/],
    [{ ENCRYPTION_KEY: 'c2hvcnQ=' }, /^Invalid ENCRYPTION_KEY: must be the base64 of exactly 32 bytes/],
    [{ NODE_ENV: 'production', ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') }, /^JWT_SECRET is required when NODE_ENV=production/],
    [{ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) }, /^ENCRYPTION_KEY is required when NODE_ENV=production/],
  ])('refuses %o with a ConfigError of one clear line', (env, message) => {
    let error: unknown;
    try {
      loadConfig({ DATA_DIR: join(scratch, 'data'), ...env });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message.split('\n')).toHaveLength(1);
  });

  it('refuses a bad setting at process start with one clear line and exit code 1, without a stack trace', async () => {
    const { code, stderr } = await runMain({ PORT: 'abc' });
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(/^Configuration error: Invalid PORT \(got "abc"\)/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(/\s+at\s/);
  }, 60_000);

  it('applies the documented defaults', () => {
    const config = loadConfig({ DATA_DIR: 'memory://' });
    expect(config).toMatchObject({ port: 4000, host: '0.0.0.0', publicUrl: 'http://localhost:4000', databaseUrl: null, redisUrl: null, logLevel: 'info' });
    expect(config.encryptionKey).toHaveLength(32);
  });

  it('keeps generated development secrets in DATA_DIR so restarts keep tokens valid', () => {
    const dir = join(scratch, 'dev-secrets');
    const a = loadConfig({ DATA_DIR: dir });
    const b = loadConfig({ DATA_DIR: dir });
    expect(a.jwtSecret).toBe(b.jwtSecret);
    expect(a.encryptionKey.equals(b.encryptionKey)).toBe(true);
    const stored = JSON.parse(readFileSync(join(dir, 'dev-secrets.json'), 'utf8')) as Record<string, string>;
    expect(stored.JWT_SECRET).toBe(a.jwtSecret);
  });

  it('strips a trailing slash from PUBLIC_URL and refuses one with a query', () => {
    expect(loadConfig({ DATA_DIR: 'memory://', PUBLIC_URL: 'https://sms.example.com/' }).publicUrl).toBe('https://sms.example.com');
    expect(() => loadConfig({ DATA_DIR: 'memory://', PUBLIC_URL: 'https://x.example.com/?a=1' })).toThrow(ConfigError);
  });

  it('does not echo secret values in the message', () => {
    expect(() => loadConfig({ DATA_DIR: 'memory://', JWT_SECRET: 'short-secret' })).toThrow(/^Invalid JWT_SECRET: must be at least 32 characters$/);
  });
});
