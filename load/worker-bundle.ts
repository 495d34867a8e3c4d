/**
 * The load worker as one plain ES module, built with esbuild at the start of a run: the worker
 * then runs on plain Node, without tsx's loader (which also wraps every closure the SDK creates
 * per call in a name-setting helper), and with socket.io's production builds instead of the
 * `esm-debug` ones Node's export conditions pick (a `debug()` call on every packet). In
 * hot-seats that took the generator from ~51 to ~41 µs of CPU per answered attempt, CPU the
 * server shares on this machine. Packages with native or optional parts stay external and
 * resolve from the project's node_modules, which is why the bundle is written there.
 *
 * Content-addressed (worker-<hash>.mjs, written to a temporary name and renamed), so runs in
 * parallel (the test files) never fork a half-written file. LOAD_WORKER_BUNDLE=false runs the
 * worker from source under tsx instead.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = join(here, '..');
const cacheDir = join(projectRoot, 'node_modules', '.cache', 'holdfast-load');
const require = createRequire(import.meta.url);

/** Kept out of the bundle: native add-ons, optional native speed-ups, WebAssembly. */
const external = ['ws', 'bufferutil', 'utf-8-validate', 'msgpackr', 'hdr-histogram-js', 'pg'];

/** The production (non-debug) ES builds of the socket.io client stack. */
function productionBuilds(): Record<string, string> {
  const packageDir = (name: string): string => dirname(require.resolve(`${name}/package.json`));
  // socket.io-parser exports no package.json: its CommonJS entry is build/cjs/index.js.
  const parserDir = join(dirname(require.resolve('socket.io-parser')), '..', '..');
  return {
    'socket.io-client': join(packageDir('socket.io-client'), 'build', 'esm', 'index.js'),
    'engine.io-client': join(packageDir('engine.io-client'), 'build', 'esm', 'index.js'),
    'socket.io-parser': join(parserDir, 'build', 'esm', 'index.js'),
  };
}

/** Removes bundles of earlier code that no run has touched for an hour. */
function pruneOld(keep: string): void {
  const cutoffMs = Date.now() - 3_600_000;
  for (const name of readdirSync(cacheDir)) {
    const path = join(cacheDir, name);
    if (path === keep || !name.startsWith('worker-')) continue;
    try {
      if (statSync(path).mtimeMs < cutoffMs) unlinkSync(path);
    } catch {
      // another run pruned it first
    }
  }
}

/** Builds the bundle (~50 ms) and returns its path. */
export async function bundleLoadWorker(): Promise<string> {
  const result = await build({
    entryPoints: [join(here, 'worker.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    external,
    alias: productionBuilds(),
    // Bundled CommonJS dependencies call require(): give the ES module one.
    banner: { js: "import { createRequire as __holdfastCreateRequire } from 'node:module'; const require = __holdfastCreateRequire(import.meta.url);" },
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  mkdirSync(cacheDir, { recursive: true });
  const path = join(cacheDir, `worker-${hash}.mjs`);
  if (!existsSync(path)) {
    const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temporary, code);
    renameSync(temporary, path);
  }
  pruneOld(path);
  return path;
}
