import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../shared/deps.js';

/**
 * The agent console (web/, a Vite build made by `npm ci` through the `prepare` script) at `/`.
 * The same folder serves from src/http (tsx) and dist/http (compiled).
 */
export const CONSOLE_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** Client-side pages of the single-page app, answered with its index.html. */
const APP_PAGES = ['/phone', '/admin', '/inbox', '/inbox/:conversationId'];

type StaticModule = Awaited<ReturnType<typeof loadStatic>>;
const loadStatic = () => import('@fastify/static');
let staticPlugin: Promise<StaticModule> | null = null;

/**
 * Starts loading @fastify/static (tens of ms) while the database opens, so that serving the
 * console adds nothing noticeable to start-up. Does nothing when the console is not built.
 */
export function preloadConsole(): void {
  if (!staticPlugin && existsSync(`${CONSOLE_DIST}index.html`)) {
    const loading = loadStatic();
    loading.catch(() => undefined);
    staticPlugin = loading;
  }
}

/**
 * The console's pages may load only their own bundle, talk only to this server (HTTP and
 * WebSocket), show images from here and from the signed media links (PUBLIC_URL), and never be
 * framed by another site.
 */
function securityHeaders(deps: AppDeps): Record<string, string> {
  const media = new URL(deps.config.publicUrl).origin;
  return {
    'content-security-policy': [
      "default-src 'self'",
      `img-src 'self' data: blob: ${media}`,
      "connect-src 'self' ws: wss:",
      "style-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

export async function registerConsoleRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  if (!existsSync(`${CONSOLE_DIST}index.html`)) {
    app.get('/', async (_request, reply) =>
      reply
        .type('text/plain; charset=utf-8')
        .send('The agent console is not built. Run `npm run build:web` (npm ci does it), then restart. GraphQL is at /graphql.\n'),
    );
    return;
  }
  preloadConsole();
  const { default: fastifyStatic } = await staticPlugin!;
  await app.register(fastifyStatic, {
    root: CONSOLE_DIST,
    prefix: '/',
    // Hashed file names under assets/ never change; index.html must be fetched fresh.
    setHeaders: (res, path) => {
      res.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      if (path.endsWith('.html')) for (const [k, v] of Object.entries(securityHeaders(deps))) res.header(k, v);
    },
  });
  for (const page of APP_PAGES) {
    app.get(page, async (_request, reply) => reply.headers({ 'cache-control': 'no-cache', ...securityHeaders(deps) }).sendFile('index.html'));
  }
}
