import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A file whose tests all need PostgreSQL registers none without DATABASE_URL (onlyWhere; the
    // databases support says so): on a fresh machine it passes empty. Under CI=true DATABASE_URL is
    // required and every file holds tests, so an empty one fails there.
    passWithNoTests: process.env['CI'] !== 'true',
    // expect.poll waits for a page or a cluster to reach a state; 1 s (vitest's default) is less
    // than one refresh of the ops page on a busy CI machine. A state never reached still fails.
    expect: { poll: { timeout: 5_000 } },
    reporters: ['default'],
  },
});
