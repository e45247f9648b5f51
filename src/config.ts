import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
  INGEST_BATCH_MAX: z.coerce.number().int().min(1).max(1000).default(32),
  INGEST_BATCH_WAIT_MS: z.coerce.number().int().min(0).max(1000).default(1),
  INGEST_BATCH_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional(),
  REPLY_BATCH_MAX: z.coerce.number().int().min(1).max(1000).default(32),
  REPLY_BATCH_WAIT_MS: z.coerce.number().int().min(0).max(1000).default(1),
  REPLY_BATCH_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional(),
  DISPATCHER_ENABLED: booleanString.default(true),
  DISPATCHER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(64),
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
  TWILIO_TOKEN_ROTATION_GRACE_SECONDS: z.coerce.number().int().min(1).max(30 * 86400).default(72 * 3600),
  MEDIA_LINK_TTL_SECONDS: z.coerce.number().int().min(10).max(7 * 86400).default(3600),
  MEDIA_UPLOAD_MAX_BYTES: z.coerce.number().int().min(1024).max(5 * 1024 * 1024).default(5 * 1024 * 1024),
  MEDIA_SEND_LINK_TTL_SECONDS: z.coerce.number().int().min(60).max(30 * 86400).default(43_200),
  MEDIA_COPY_ENABLED: booleanString.default(true),
  MEDIA_COPY_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  MEDIA_COPY_MAX_BYTES: z.coerce.number().int().min(1024).max(100 * 1024 * 1024).default(20 * 1024 * 1024),
  MEDIA_S3_BUCKET: z.string().min(3).max(63).optional(),
  MEDIA_S3_REGION: z.string().min(1).default('us-east-1'),
  MEDIA_S3_ENDPOINT: httpUrl.optional(),
  MEDIA_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  MEDIA_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  MEDIA_S3_FORCE_PATH_STYLE: booleanString.optional(),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  AUTOMATION_MAX_PER_CONTACT_PER_HOUR: z.coerce.number().int().min(1).max(1000).default(10),
  AUTOMATION_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  FALLBACK_SPOOL_DIR: z.string().min(1).optional(),
  FALLBACK_CACHE_REFRESH_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
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
  WS_KEEPALIVE_MS: z.coerce.number().int().min(100).max(600_000).default(12_000),
  AUTH_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
  GRAPHQL_INTROSPECTION: booleanString.optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  PRESENCE_OFFLINE_AFTER_SECONDS: z.coerce.number().int().min(1).max(86_400).default(120),
  ROUTING_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(5000),
  SEARCH_INDEX_MERGE_MS: z.coerce.number().int().min(0).max(3_600_000).default(1000),
  SANDBOX: booleanString.default(false),
  WEBHOOK_ENDPOINTS_ALLOW_PRIVATE: booleanString.default(false),
  WEBHOOK_DELIVERY_ENABLED: booleanString.default(true),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  WEBHOOK_RETRY_WINDOW_SECONDS: z.coerce.number().int().min(1).max(7 * 86400).default(86400),
  WEBHOOK_BACKOFF_BASE_MS: z.coerce.number().int().min(1).max(3_600_000).default(5000),
  WEBHOOK_BACKOFF_MAX_MS: z.coerce.number().int().min(1).max(24 * 3_600_000).default(3_600_000),
  WEBHOOK_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  RETENTION_ENABLED: booleanString.default(true),
  RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  SANDBOX_FAILURE_PERCENT: z.coerce.number().min(0).max(100).default(5),
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
  /** Group commit of inbound texts: at most `max` per statement (1: off), gathered for `waitMs`, `concurrency` statements at once. */
  ingestBatch: { max: number; waitMs: number; concurrency: number };
  /** Group commit of agents' replies (sendMessage without idempotencyKey), as ingestBatch. */
  replyBatch: { max: number; waitMs: number; concurrency: number };
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
  /** After a token rotation, the longest the old token is still accepted on webhooks. */
  tokenRotationGraceSeconds: number;
  /** HTTP_PROXY is set: the Twilio SDK then tunnels through its own proxy agent. */
  httpProxy: boolean;
  mediaLinkTtlSeconds: number;
  media: {
    /** Largest upload (POST /media); Twilio takes at most 5 MB per message. */
    uploadMaxBytes: number;
    /** Lifetime of the signed links handed to Twilio at send time (its queue may hold a message 36,000 s). */
    sendLinkTtlSeconds: number;
    /** Run the inbound-media copy worker in this instance (jobs are recorded whatever this says). */
    copyEnabled: boolean;
    copyPollMs: number;
    copyMaxBytes: number;
    /** null: files are kept in Postgres (bytea). */
    s3: { bucket: string; region: string; endpoint: string | null; accessKeyId: string | null; secretAccessKey: string | null; forcePathStyle: boolean } | null;
  };
  shutdownTimeoutMs: number;
  automations: {
    /** Loop guard: automated texts to one contact per rolling hour, all triggers together. */
    maxPerContactPerHour: number;
    /** How often each instance looks for surveys to send and spooled fallback messages to ingest. */
    pollMs: number;
    /** Where the fallback URL spools inbound texts while the database is down (durable, local). */
    spoolDir: string;
    /** How often the in-memory copy of accounts and FAILURE texts (for the fallback URL) is refreshed. */
    failureCacheRefreshMs: number;
  };
  /** Where tenant-supplied URLs (Twilio API roots, media) may lead; see src/shared/outbound-guard.ts. */
  outbound: { allowPrivate: boolean; trustedHosts: string[]; requireHttps: boolean };
  signUp: { maxPerAddress: number; windowSeconds: number };
  ws: { maxSubscriptionsPerSocket: number; maxSocketsPerUser: number; keepAliveMs: number };
  /** How long a session's state (user active, role, revoked) is cached when no change event arrives. */
  authCacheTtlSeconds: number;
  introspection: boolean;
  /** When set, GET /metrics needs `Authorization: Bearer <token>`; production without it serves no metrics. */
  metricsToken: string | null;
  /** An agent whose last WebSocket closed (on every instance) this long ago becomes OFFLINE. */
  presenceOfflineAfterSeconds: number;
  /** How often each instance routes conversations left waiting (a crash, a missed trigger, a hold that ended). */
  routingSweepIntervalMs: number;
  /** How often this instance merges the search (GIN) indexes' pending lists; 0: never (inserts merge at 4 MB). */
  searchIndexMergeMs: number;
  webhooks: {
    /** Lets endpoints be http:// on loopback/private addresses (tests, sandbox, local development); refused in production. */
    allowPrivate: boolean;
    /** Run the outgoing-webhook delivery worker in this instance. */
    deliveryEnabled: boolean;
    timeoutMs: number;
    /** How long a delivery is retried, and how long an endpoint may keep failing before it is disabled. */
    retryWindowSeconds: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    pollMs: number;
    concurrency: number;
  };
  retention: { enabled: boolean; batchSize: number };
  /** Sandbox mode: the built-in Twilio simulator, demo data, the customer phone page (never in production). */
  sandbox: boolean;
  /** Share of the simulator's outbound messages that end undelivered (30003/30005), in percent. */
  sandboxFailurePercent: number;
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

  if (e.SANDBOX && e.NODE_ENV === 'production') {
    throw new ConfigError('SANDBOX=true is refused when NODE_ENV=production: the sandbox simulates Twilio and seeds demo users with printed passwords');
  }
  // The sandbox keeps its demo data apart from a development database, and stays on loopback.
  if (e.SANDBOX && env.DATA_DIR === undefined) e.DATA_DIR = './.data/sandbox';
  if (e.SANDBOX && env.HOST === undefined) e.HOST = '127.0.0.1';
  // Its banner (console URL, credentials) should not drown in JSON log lines.
  if (e.SANDBOX && env.LOG_LEVEL === undefined) e.LOG_LEVEL = 'warn';
  // The simulator listens on loopback: the sandbox's account must be able to reach it.
  if (e.SANDBOX && env.OUTBOUND_ALLOW_PRIVATE === undefined) e.OUTBOUND_ALLOW_PRIVATE = true;

  let jwtSecret = e.JWT_SECRET;
  let encryptionKey = e.ENCRYPTION_KEY;
  if (e.NODE_ENV === 'production') {
    if (!jwtSecret) throw new ConfigError('JWT_SECRET is required when NODE_ENV=production');
    if (!encryptionKey) throw new ConfigError('ENCRYPTION_KEY is required when NODE_ENV=production (base64 of 32 bytes)');
    // Webhook signatures and media links are computed over it: a default would silently fail both.
    if (!e.PUBLIC_URL) throw new ConfigError('PUBLIC_URL is required when NODE_ENV=production (the https URL Twilio reaches us at)');
    if (e.WEBHOOK_ENDPOINTS_ALLOW_PRIVATE) {
      throw new ConfigError('WEBHOOK_ENDPOINTS_ALLOW_PRIVATE=true is refused when NODE_ENV=production');
    }
  } else if (!jwtSecret || !encryptionKey) {
    const dev = loadOrCreateDevSecrets(e.DATA_DIR);
    jwtSecret ??= dev.JWT_SECRET;
    encryptionKey ??= dev.ENCRYPTION_KEY;
  }

  if ((e.MEDIA_S3_ACCESS_KEY_ID === undefined) !== (e.MEDIA_S3_SECRET_ACCESS_KEY === undefined)) {
    throw new ConfigError('MEDIA_S3_ACCESS_KEY_ID and MEDIA_S3_SECRET_ACCESS_KEY go together (or neither, for the default AWS credential chain)');
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
    ingestBatch: {
      max: e.INGEST_BATCH_MAX,
      waitMs: e.INGEST_BATCH_WAIT_MS,
      // Few statements in flight make large batches (the rest gather meanwhile); PGlite runs one
      // statement at a time anyway.
      concurrency: e.INGEST_BATCH_CONCURRENCY ?? (e.DATABASE_URL ? Math.max(1, Math.min(4, Math.floor(e.DATABASE_POOL_SIZE / 4))) : 1),
    },
    replyBatch: {
      max: e.REPLY_BATCH_MAX,
      waitMs: e.REPLY_BATCH_WAIT_MS,
      concurrency: e.REPLY_BATCH_CONCURRENCY ?? (e.DATABASE_URL ? Math.max(1, Math.min(4, Math.floor(e.DATABASE_POOL_SIZE / 4))) : 1),
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
    tokenRotationGraceSeconds: e.TWILIO_TOKEN_ROTATION_GRACE_SECONDS,
    httpProxy: Boolean(e.HTTP_PROXY),
    mediaLinkTtlSeconds: e.MEDIA_LINK_TTL_SECONDS,
    media: {
      uploadMaxBytes: e.MEDIA_UPLOAD_MAX_BYTES,
      sendLinkTtlSeconds: e.MEDIA_SEND_LINK_TTL_SECONDS,
      copyEnabled: e.MEDIA_COPY_ENABLED,
      copyPollMs: e.MEDIA_COPY_POLL_MS,
      copyMaxBytes: e.MEDIA_COPY_MAX_BYTES,
      s3: e.MEDIA_S3_BUCKET
        ? {
            bucket: e.MEDIA_S3_BUCKET,
            region: e.MEDIA_S3_REGION,
            endpoint: e.MEDIA_S3_ENDPOINT ?? null,
            accessKeyId: e.MEDIA_S3_ACCESS_KEY_ID ?? null,
            secretAccessKey: e.MEDIA_S3_SECRET_ACCESS_KEY ?? null,
            forcePathStyle: e.MEDIA_S3_FORCE_PATH_STYLE ?? e.MEDIA_S3_ENDPOINT !== undefined,
          }
        : null,
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    automations: {
      maxPerContactPerHour: e.AUTOMATION_MAX_PER_CONTACT_PER_HOUR,
      pollMs: e.AUTOMATION_POLL_MS,
      spoolDir: resolve(
        e.FALLBACK_SPOOL_DIR ?? (e.DATA_DIR === 'memory://' ? join(tmpdir(), 'sms-inbox-fallback-spool') : join(e.DATA_DIR, 'fallback-spool')),
      ),
      failureCacheRefreshMs: e.FALLBACK_CACHE_REFRESH_MS,
    },
    outbound: {
      allowPrivate: e.OUTBOUND_ALLOW_PRIVATE,
      trustedHosts: (e.TWILIO_API_ALLOWED_HOSTS ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase().replace(/^\[|\]$/g, ''))
        .filter(Boolean),
      requireHttps: e.NODE_ENV === 'production',
    },
    signUp: { maxPerAddress: e.SIGNUP_MAX_PER_ADDRESS, windowSeconds: e.SIGNUP_WINDOW_SECONDS },
    ws: { maxSubscriptionsPerSocket: e.WS_MAX_SUBSCRIPTIONS_PER_SOCKET, maxSocketsPerUser: e.WS_MAX_SOCKETS_PER_USER, keepAliveMs: e.WS_KEEPALIVE_MS },
    authCacheTtlSeconds: e.AUTH_CACHE_TTL_SECONDS,
    introspection: e.GRAPHQL_INTROSPECTION ?? e.NODE_ENV !== 'production',
    metricsToken: e.METRICS_TOKEN ?? null,
    presenceOfflineAfterSeconds: e.PRESENCE_OFFLINE_AFTER_SECONDS,
    routingSweepIntervalMs: e.ROUTING_SWEEP_INTERVAL_MS,
    searchIndexMergeMs: e.SEARCH_INDEX_MERGE_MS,
    sandbox: e.SANDBOX,
    webhooks: {
      allowPrivate: e.WEBHOOK_ENDPOINTS_ALLOW_PRIVATE,
      deliveryEnabled: e.WEBHOOK_DELIVERY_ENABLED,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryWindowSeconds: e.WEBHOOK_RETRY_WINDOW_SECONDS,
      backoffBaseMs: e.WEBHOOK_BACKOFF_BASE_MS,
      backoffMaxMs: e.WEBHOOK_BACKOFF_MAX_MS,
      pollMs: e.WEBHOOK_POLL_MS,
      concurrency: e.WEBHOOK_CONCURRENCY,
    },
    retention: { enabled: e.RETENTION_ENABLED, batchSize: e.RETENTION_BATCH_SIZE },
    sandboxFailurePercent: e.SANDBOX_FAILURE_PERCENT,
  });
}

/** Config is read-only once loaded: nothing can change a setting behind the validation. */
export function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) {
    if (v && typeof v === 'object' && !Buffer.isBuffer(v) && !Object.isFrozen(v)) deepFreeze(v);
  }
  return Object.freeze(value);
}
