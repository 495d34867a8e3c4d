import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const webDir = fileURLToPath(new URL('.', import.meta.url));
/** Where `npx vite web` (the dev server) sends API and socket calls: a server started with `npm start`. */
const apiTarget = process.env['HOLDFAST_API'] ?? 'http://127.0.0.1:3000';

/** The fan page (index.html) and the ops page (ops.html), built into web/dist and served by the gateway. */
export default defineConfig({
  root: webDir,
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: true,
    chunkSizeWarningLimit: 400,
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('./index.html', import.meta.url)),
        ops: fileURLToPath(new URL('./ops.html', import.meta.url)),
      },
    },
  },
  server: {
    proxy: {
      '/v1': apiTarget,
      '/socket.io': { target: apiTarget, ws: true },
    },
  },
});
