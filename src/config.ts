import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Every setting the server reads, validated once at start-up. Nothing else in the code reads
 * process.env: modules receive the parsed Config.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const postgresUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
    } catch {
      return false;
    }
  },
  { message: 'must be a postgres:// or postgresql:// URL with a host' },
);

const httpUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '';
    } catch {
      return false;
    }
  },
  { message: 'must be an http(s) URL without query or fragment' },
);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  TRUST_PROXY: z
    .string()
    .refine((v) => parseTrustProxy(v) !== undefined, {
      message: 'must be false, a hop count (1 = the nearest proxy) or a comma-separated list of proxy addresses/CIDRs',
    })
    .default('false'),
  PUBLIC_URL: httpUrl.optional(),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_PREPARE: booleanString.default(true),
  DATA_DIR: z.string().min(1).default('./.data'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_EXPIRES_IN_SECONDS: z.coerce.number().int().min(5).max(30 * 24 * 3600).default(12 * 3600),
  ENCRYPTION_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, { message: 'must be the base64 of exactly 32 bytes' })
    .optional(),
  REDIS_URL: z
    .string()
    .refine((v) => /^rediss?:\/\/.+/.test(v), { message: 'must be a redis:// or rediss:// URL' })
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(2).max(50).default(10),
  GRAPHQL_MAX_COST: z.coerce.number().int().min(100).max(10_000_000).default(50_000),
  GRAPHQL_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).default(1024 * 1024),
  WEBHOOK_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024).default(64 * 1024),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(10),
  LOGIN_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86400).default(900),
  DISPATCHER_ENABLED: booleanString.default(true),
  DISPATCHER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  DISPATCHER_LEASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  DISPATCHER_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  DISPATCHER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  DISPATCHER_BACKOFF_BASE_MS: z.coerce.number().int().min(1).max(600_000).default(1000),
  DISPATCHER_BACKOFF_MAX_MS: z.coerce.number().int().min(1).max(3_600_000).default(300_000),
  DISPATCHER_AMBIGUOUS_RETRY_MS: z.coerce.number().int().min(1).max(3_600_000).default(120_000),
  PACING_ENABLED: booleanString.default(true),
  PACING_LONG_CODE_MPS: z.coerce.number().positive().max(10_000).default(1),
  PACING_TOLL_FREE_MPS: z.coerce.number().positive().max(10_000).default(3),
  PACING_SHORT_CODE_MPS: z.coerce.number().positive().max(10_000).default(100),
  HTTP_PROXY: z.string().optional(),
  TWILIO_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  MEDIA_LINK_TTL_SECONDS: z.coerce.number().int().min(10).max(7 * 86400).default(3600),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  OUTBOUND_ALLOW_PRIVATE: booleanString.default(false),
  TWILIO_API_ALLOWED_HOSTS: z
    .string()
    .refine((v) => v.split(',').every((h) => /^[a-z0-9.-]+$|^\[?[0-9a-f:.]+\]?$/i.test(h.trim())), {
      message: 'must be a comma-separated list of host names',
    })
    .optional(),
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(100),
  SIGNUP_MAX_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(10),
  SIGNUP_WINDOW_SECONDS: z.coerce.number().int().min(1).max(7 * 86400).default(3600),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: z.coerce.number().int().min(1).max(10_000).default(50),
  WS_MAX_SOCKETS_PER_USER: z.coerce.number().int().min(1).max(10_000).default(20),
  AUTH_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
  GRAPHQL_INTROSPECTION: booleanString.optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  PRESENCE_OFFLINE_AFTER_SECONDS: z.coerce.number().int().min(1).max(86_400).default(120),
  ROUTING_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(5000),
});

/** Fastify's trustProxy: false, a hop count, or a list of trusted proxy addresses/CIDRs. */
export type TrustProxy = false | number | string[];

export function parseTrustProxy(raw: string): TrustProxy | undefined {
  const v = raw.trim().toLowerCase();
  if (v === 'false' || v === '0' || v === 'no' || v === '') return false;
  // `true` used to trust every X-Forwarded-For entry (any client could pick its own address):
  // it now means the one proxy in front of us.
  if (v === 'true' || v === 'yes') return 1;
  if (/^\d{1,2}$/.test(v)) return Number(v);
  const list = v.split(',').map((x) => x.trim()).filter(Boolean);
  const cidr = /^([0-9.]+|[0-9a-f:]+)(\/\d{1,3})?$/;
  return list.length > 0 && list.every((x) => cidr.test(x)) ? list : undefined;
}

export type RawEnv = Record<string, string | undefined>;

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  /** Behind load balancers: how many X-Forwarded-For hops (or which proxy addresses) to trust. */
  trustProxy: TrustProxy;
  /** Base of every URL we hand out (webhooks, status callbacks, media links); no trailing slash. */
  publicUrl: string;
  /** Whether PUBLIC_URL was given: when not, it follows the port actually bound (PORT=0 in tests). */
  publicUrlExplicit: boolean;
  databaseUrl: string | null;
  databasePoolSize: number;
  /** Prepared statements on Postgres; turn off behind PgBouncer in transaction mode. */
  databasePrepare: boolean;
  /** PGlite's folder; 'memory://' keeps the embedded database in memory (tests). */
  dataDir: string;
  jwtSecret: string;
  jwtExpiresInSeconds: number;
  encryptionKey: Buffer;
  redisUrl: string | null;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  graphql: { maxDepth: number; maxCost: number; bodyLimitBytes: number };
  webhookBodyLimitBytes: number;
  login: { maxFailures: number; maxFailuresPerAddress: number; windowSeconds: number };
  dispatcher: {
    enabled: boolean;
    concurrency: number;
    leaseSeconds: number;
    pollMs: number;
    maxAttempts: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    /** Least wait before retrying a send that timed out (Twilio may have taken it). */
    ambiguousRetryMs: number;
  };
  pacing: { enabled: boolean; longCodeMps: number; tollFreeMps: number; shortCodeMps: number };
  twilioTimeoutMs: number;
  /** HTTP_PROXY is set: the Twilio SDK then tunnels through its own proxy agent. */
  httpProxy: boolean;
  mediaLinkTtlSeconds: number;
  shutdownTimeoutMs: number;
  /** Where tenant-supplied URLs (Twilio API roots, media) may lead; see src/shared/outbound-guard.ts. */
  outbound: { allowPrivate: boolean; trustedHosts: string[]; requireHttps: boolean };
  signUp: { maxPerAddress: number; windowSeconds: number };
  ws: { maxSubscriptionsPerSocket: number; maxSocketsPerUser: number };
  /** How long a session's state (user active, role, revoked) is cached when no change event arrives. */
  authCacheTtlSeconds: number;
  introspection: boolean;
  /** When set, GET /metrics needs `Authorization: Bearer <token>`; production without it serves no metrics. */
  metricsToken: string | null;
  /** An agent whose last WebSocket closed (on every instance) this long ago becomes OFFLINE. */
  presenceOfflineAfterSeconds: number;
  /** How often each instance routes conversations left waiting (a crash, a missed trigger, a hold that ended). */
  routingSweepIntervalMs: number;
}

const DEV_SECRETS_FILE = 'dev-secrets.json';

interface DevSecrets {
  JWT_SECRET: string;
  ENCRYPTION_KEY: string;
}

/**
 * Outside production the secrets are generated on first start and kept in DATA_DIR, so a restart
 * keeps issued tokens and encrypted Twilio tokens valid without any setup.
 */
function loadOrCreateDevSecrets(dataDir: string): DevSecrets {
  if (dataDir === 'memory://') {
    return { JWT_SECRET: randomBytes(32).toString('base64url'), ENCRYPTION_KEY: randomBytes(32).toString('base64') };
  }
  const dir = resolve(dataDir);
  const file = join(dir, DEV_SECRETS_FILE);
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevSecrets>;
    if (parsed.JWT_SECRET && parsed.ENCRYPTION_KEY) return parsed as DevSecrets;
  }
  mkdirSync(dir, { recursive: true });
  const secrets: DevSecrets = {
    JWT_SECRET: randomBytes(32).toString('base64url'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/** Parses and validates the environment; throws ConfigError with a one-line, human message. */
export function loadConfig(rawEnv: RawEnv = process.env): Config {
  // Empty strings count as unset, as shells and compose files often leave them so.
  const env: RawEnv = Object.fromEntries(Object.entries(rawEnv).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const shown = env[name] !== undefined && !/SECRET|KEY|URL/.test(name) ? ` (got "${env[name]}")` : '';
    throw new ConfigError(`Invalid ${name}${shown}: ${issue.message}`);
  }
  const e = parsed.data;

  let jwtSecret = e.JWT_SECRET;
  let encryptionKey = e.ENCRYPTION_KEY;
  if (e.NODE_ENV === 'production') {
    if (!jwtSecret) throw new ConfigError('JWT_SECRET is required when NODE_ENV=production');
    if (!encryptionKey) throw new ConfigError('ENCRYPTION_KEY is required when NODE_ENV=production (base64 of 32 bytes)');
    // Webhook signatures and media links are computed over it: a default would silently fail both.
    if (!e.PUBLIC_URL) throw new ConfigError('PUBLIC_URL is required when NODE_ENV=production (the https URL Twilio reaches us at)');
  } else if (!jwtSecret || !encryptionKey) {
    const dev = loadOrCreateDevSecrets(e.DATA_DIR);
    jwtSecret ??= dev.JWT_SECRET;
    encryptionKey ??= dev.ENCRYPTION_KEY;
  }

  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return deepFreeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    trustProxy: parseTrustProxy(e.TRUST_PROXY)!,
    publicUrl,
    publicUrlExplicit: e.PUBLIC_URL !== undefined,
    databaseUrl: e.DATABASE_URL ?? null,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databasePrepare: e.DATABASE_PREPARE,
    dataDir: e.DATA_DIR,
    jwtSecret: jwtSecret!,
    jwtExpiresInSeconds: e.JWT_EXPIRES_IN_SECONDS,
    encryptionKey: Buffer.from(encryptionKey!, 'base64'),
    redisUrl: e.REDIS_URL ?? null,
    logLevel: e.LOG_LEVEL,
    graphql: { maxDepth: e.GRAPHQL_MAX_DEPTH, maxCost: e.GRAPHQL_MAX_COST, bodyLimitBytes: e.GRAPHQL_BODY_LIMIT_BYTES },
    webhookBodyLimitBytes: e.WEBHOOK_BODY_LIMIT_BYTES,
    login: {
      maxFailures: e.LOGIN_MAX_FAILURES,
      maxFailuresPerAddress: e.LOGIN_MAX_FAILURES_PER_ADDRESS,
      windowSeconds: e.LOGIN_FAILURE_WINDOW_SECONDS,
    },
    dispatcher: {
      enabled: e.DISPATCHER_ENABLED,
      concurrency: e.DISPATCHER_CONCURRENCY,
      leaseSeconds: e.DISPATCHER_LEASE_SECONDS,
      pollMs: e.DISPATCHER_POLL_MS,
      maxAttempts: e.DISPATCHER_MAX_ATTEMPTS,
      backoffBaseMs: e.DISPATCHER_BACKOFF_BASE_MS,
      backoffMaxMs: e.DISPATCHER_BACKOFF_MAX_MS,
      ambiguousRetryMs: e.DISPATCHER_AMBIGUOUS_RETRY_MS,
    },
    pacing: {
      enabled: e.PACING_ENABLED,
      longCodeMps: e.PACING_LONG_CODE_MPS,
      tollFreeMps: e.PACING_TOLL_FREE_MPS,
      shortCodeMps: e.PACING_SHORT_CODE_MPS,
    },
    twilioTimeoutMs: e.TWILIO_TIMEOUT_MS,
    httpProxy: Boolean(e.HTTP_PROXY),
    mediaLinkTtlSeconds: e.MEDIA_LINK_TTL_SECONDS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    outbound: {
      allowPrivate: e.OUTBOUND_ALLOW_PRIVATE,
      trustedHosts: (e.TWILIO_API_ALLOWED_HOSTS ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase().replace(/^\[|\]$/g, ''))
        .filter(Boolean),
      requireHttps: e.NODE_ENV === 'production',
    },
    signUp: { maxPerAddress: e.SIGNUP_MAX_PER_ADDRESS, windowSeconds: e.SIGNUP_WINDOW_SECONDS },
    ws: { maxSubscriptionsPerSocket: e.WS_MAX_SUBSCRIPTIONS_PER_SOCKET, maxSocketsPerUser: e.WS_MAX_SOCKETS_PER_USER },
    authCacheTtlSeconds: e.AUTH_CACHE_TTL_SECONDS,
    introspection: e.GRAPHQL_INTROSPECTION ?? e.NODE_ENV !== 'production',
    metricsToken: e.METRICS_TOKEN ?? null,
    presenceOfflineAfterSeconds: e.PRESENCE_OFFLINE_AFTER_SECONDS,
    routingSweepIntervalMs: e.ROUTING_SWEEP_INTERVAL_MS,
  });
}

/** Config is read-only once loaded: nothing can change a setting behind the validation. */
export function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) {
    if (v && typeof v === 'object' && !Buffer.isBuffer(v) && !Object.isFrozen(v)) deepFreeze(v);
  }
  return Object.freeze(value);
}
