import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundleLoadWorker } from '../../load/worker-bundle.js';

/** The load worker's bundle: socket.io's production builds, not the debug ones Node would pick, and one file per content. */
describe('load worker bundle', () => {
  it('bundles the socket.io client stack from its production builds', async () => {
    const code = readFileSync(await bundleLoadWorker(), 'utf8');
    expect(code).toContain('node_modules/socket.io-client/build/esm/');
    expect(code).toContain('node_modules/engine.io-client/build/esm/');
    expect(code).not.toContain('esm-debug');
    // ws stays external: its optional native add-ons resolve from node_modules at run time.
    expect(code).toMatch(/from ["']ws["']/);
  });

  it('is content-addressed: the same code builds to the same file', async () => {
    expect(await bundleLoadWorker()).toBe(await bundleLoadWorker());
  });
});
