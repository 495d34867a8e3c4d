/**
 * `npm run build`'s server half: src/main.ts as one ES module, dist/holdfast.mjs, for production
 * (`npm run start:prod`: plain Node, no tsx). A worker then starts without transpiling the source
 * first: here ~0.8 s to a healthy /healthz instead of ~1.7 s under tsx, which a cluster pays once
 * per worker on every restart and failover. Dependencies stay in node_modules (native add-ons,
 * WebAssembly); the fan page is `npm run build:web`'s web/dist, found the same way from dist/ as
 * from src/ (one level below the project). A source map comes along for stack traces.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
export const serverBundlePath = join(projectRoot, 'dist', 'holdfast.mjs');

/** Builds the server bundle and returns its path. */
export async function buildServer(outfile = serverBundlePath): Promise<string> {
  mkdirSync(join(outfile, '..'), { recursive: true });
  await build({
    entryPoints: [join(projectRoot, 'src', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
  return outfile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = await buildServer();
  console.log(`server bundle: ${path}`);
}
