import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/** The SDK's directory (client-sdk/). */
export const sdkDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * esbuild options shared by the build and by test/sdk/bundle.test.ts (which runs the bundles
 * against a server): the SDK and the server modules it runs are bundled, npm packages stay
 * external dependencies, no Node built-ins, ES2019 for older browsers and Hermes.
 */
export const bundleOptions: BuildOptions = {
  entryPoints: [join(sdkDir, 'src/index.ts')],
  bundle: true,
  packages: 'external',
  platform: 'neutral',
  target: 'es2019',
  sourcemap: true,
  logLevel: 'warning',
  metafile: true,
};
