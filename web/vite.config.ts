import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The agent console. `npm run build:web` (run by `npm ci` through `prepare`) writes web/dist,
// which the server serves at /. `npx vite web` serves it with hot reload, proxying the API to :4000.
const api = process.env.CONSOLE_API ?? 'http://localhost:4000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      '/graphql': { target: api, ws: true },
      '/sandbox': api,
      '/media': api,
    },
  },
});
