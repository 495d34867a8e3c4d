/**
 * Builds the web pages into web/dist with Vite.
 *   npx tsx web/build.ts            always build (npm run build:web)
 *   npx tsx web/build.ts --if-stale build only when web/dist is missing or older than a source
 * The sources are web/ (minus dist), the SDK (client-sdk/src) and the protocol it imports
 * (src/protocol, src/admission/queue-math.ts): `npm start` runs the second form, so a fresh
 * clone gets the pages and a restart without changes costs one directory walk.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'vite';

export const webDir = fileURLToPath(new URL('.', import.meta.url));
export const webDistDir = join(webDir, 'dist');
const repoDir = join(webDir, '..');
const sourceRoots = [webDir, join(repoDir, 'client-sdk/src'), join(repoDir, 'src/protocol'), join(repoDir, 'src/admission/queue-math.ts')];
/** Written after a build finished: its mtime is the build's time. */
const builtMarker = join(webDistDir, '.built');

function newestMtimeMs(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    // Build output, dependencies and dot-files (the tests' build lock) are not sources.
    if (entry === 'dist' || entry === 'node_modules' || entry.startsWith('.')) continue;
    newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  }
  return newest;
}

export function webBuildIsStale(): boolean {
  if (!existsSync(builtMarker) || !existsSync(join(webDistDir, 'index.html'))) return true;
  const builtAtMs = statSync(builtMarker).mtimeMs;
  return sourceRoots.some((root) => existsSync(root) && newestMtimeMs(root) > builtAtMs);
}

export async function buildWeb(options: { ifStale?: boolean } = {}): Promise<boolean> {
  if (options.ifStale && !webBuildIsStale()) return false;
  const startedMs = Date.now();
  await build({ configFile: join(webDir, 'vite.config.ts') });
  writeFileSync(builtMarker, `${new Date().toISOString()}\n`);
  console.log(`web pages built into ${webDistDir} in ${Date.now() - startedMs} ms`);
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const ifStale = process.argv.includes('--if-stale');
  const built = await buildWeb({ ifStale });
  if (!built) console.log('web pages are up to date (web/dist)');
}
