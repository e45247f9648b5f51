import pino, { type Logger } from 'pino';

/**
 * An error as logged: pino's serializer, minus whatever a failed query carries. drizzle wraps
 * database errors as "Failed query: <sql>\nparams: <values>" (message and stack) with a `params`
 * field, and postgres.js can attach `parameters`/`args`: those values are password hashes, sealed
 * tokens, webhook keys and message bodies, so they never reach a log line.
 */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  return scrub(pino.stdSerializers.err(err) as unknown as Record<string, unknown>, 0);
}

const PARAMS_LINE = /\nparams: [\s\S]*?(?=\n {4}at |$)/;

function scrub(serialized: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { ...serialized };
  for (const key of ['params', 'parameters', 'args']) {
    if (key in out) out[key] = '[redacted]';
  }
  if (typeof out['message'] === 'string') out['message'] = (out['message'] as string).replace(PARAMS_LINE, '\nparams: [redacted]');
  if (typeof out['stack'] === 'string') out['stack'] = (out['stack'] as string).replace(PARAMS_LINE, '\nparams: [redacted]');
  const cause = out['cause'];
  if (cause && typeof cause === 'object' && depth < 5) out['cause'] = scrub(cause as Record<string, unknown>, depth + 1);
  return out;
}

/**
 * A URL as logged: webhook keys (they authorise posting as Twilio... with a signature, and they
 * name the account) and media-link signatures (they are the authorisation) are replaced.
 */
export function redactUrl(url: string): string {
  return url
    .replace(/\/webhooks\/twilio\/[^/?#]+/g, '/webhooks/twilio/[key]')
    .replace(/([?&]signature=)[^&#]*/g, '$1[redacted]');
}

function serializeRequest(req: { method?: string; url?: string; id?: unknown; ip?: string; socket?: { remoteAddress?: string } }) {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
    id: req.id,
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
  };
}

/** JSON logs; anything that could carry a secret is redacted wherever it appears. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    serializers: { err: serializeError, error: serializeError, req: serializeRequest },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-twilio-signature"]',
        '*.password',
        '*.authToken',
        '*.token',
        '*.authorization',
        'password',
        'authToken',
        'token',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
export type { Logger };
