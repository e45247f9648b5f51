import pino, { type Logger } from 'pino';

/** JSON logs; anything that could carry a secret is redacted wherever it appears. */
export function createLogger(level: string): Logger {
  return pino({
    level,
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
  });
}
export type { Logger };
