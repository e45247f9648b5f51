import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

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

export async function registerConsoleRoutes(app: FastifyInstance): Promise<void> {
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
    },
  });
  for (const page of APP_PAGES) {
    app.get(page, async (_request, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'));
  }
}
