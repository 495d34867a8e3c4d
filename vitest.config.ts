import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // expect.poll waits for a page or a cluster to reach a state; 1 s (vitest's default) is less
    // than one refresh of the ops page on a busy CI machine. A state never reached still fails.
    expect: { poll: { timeout: 5_000 } },
    reporters: ['default'],
  },
});
