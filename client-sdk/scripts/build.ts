/**
 * Builds @holdfast/client into client-sdk/dist (not committed):
 *   dist/esm/index.js      ESM bundle (browsers via bundlers, Node `import`, React Native/Metro)
 *   dist/cjs/index.cjs     CommonJS bundle (Node `require`, older tooling)
 *   dist/types/…           declarations (tsc --emitDeclarationOnly over client-sdk/tsconfig.json)
 *   dist/types-cjs/…       the same declarations under a {"type":"commonjs"} package.json, for `require` users
 *
 * The SDK's own code and the protocol modules it uses at run time (the msgpack parser, the
 * queue arithmetic) are bundled; npm packages (socket.io-client, msgpackr,
 * @socket.io/component-emitter) stay external dependencies. zod is imported for types only.
 *
 * Run: `npm run build` in client-sdk/ (or `npx tsx client-sdk/scripts/build.ts` from the root).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { bundleOptions, sdkDir } from './bundle-options.js';

const dist = join(sdkDir, 'dist');
const startedMs = Date.now();

rmSync(dist, { recursive: true, force: true });

const esm = await build({ ...bundleOptions, format: 'esm', outfile: join(dist, 'esm/index.js') });
const cjs = await build({ ...bundleOptions, format: 'cjs', outfile: join(dist, 'cjs/index.cjs') });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(sdkDir, 'tsconfig.json')], { stdio: 'inherit' });
cpSync(join(dist, 'types'), join(dist, 'types-cjs'), { recursive: true });
writeFileSync(join(dist, 'types-cjs/package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);

// Checks: the bundles load, export the client, and import nothing but the declared dependencies.
const manifest = JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
for (const [name, result] of [['esm', esm], ['cjs', cjs]] as const) {
  const imports = Object.values(result.metafile?.outputs ?? {}).flatMap((output) => output.imports.filter((entry) => entry.external).map((entry) => entry.path));
  const undeclared = imports.filter((path) => !Object.hasOwn(manifest.dependencies, path));
  if (undeclared.length > 0) throw new Error(`${name} bundle imports undeclared packages: ${undeclared.join(', ')}`);
}
const fromEsm = (await import(pathToFileURL(join(dist, 'esm/index.js')).href)) as Record<string, unknown>;
const fromCjs = createRequire(import.meta.url)(join(dist, 'cjs/index.cjs')) as Record<string, unknown>;
for (const [name, module] of [['esm', fromEsm], ['cjs', fromCjs]] as const) {
  if (typeof module['HoldfastClient'] !== 'function' || typeof module['SeatMapStore'] !== 'function') throw new Error(`${name} bundle does not export the client`);
}
const typesEntry = join(dist, 'types/client-sdk/src/index.d.ts');
if (!existsSync(typesEntry)) throw new Error(`no declarations at ${typesEntry}`);

const size = (file: string): string => `${(readFileSync(join(dist, file)).byteLength / 1024).toFixed(1)} KB`;
console.log(`@holdfast/client built in ${Date.now() - startedMs} ms: esm/index.js ${size('esm/index.js')}, cjs/index.cjs ${size('cjs/index.cjs')}, declarations in dist/types (+ types-cjs)`);
