import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

/** Limits read from the environment: defaults, and values refused at start-up rather than obeyed. */
describe('configuration: the outbox gathering pause', () => {
  it('defaults to 25 ms and takes 0 (claim at once)', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).outboxGatherMs).toBe(25);
    expect(loadConfig({ NODE_ENV: 'test', OUTBOX_GATHER_MS: '0' }).outboxGatherMs).toBe(0);
  });

  it('refuses a pause over a second, or a negative one', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', OUTBOX_GATHER_MS: '5000' })).toThrow(/OUTBOX_GATHER_MS must be at most 1000/);
    expect(() => loadConfig({ NODE_ENV: 'test', OUTBOX_GATHER_MS: '-1' })).toThrow(/OUTBOX_GATHER_MS must be an integer >= 0/);
  });
});
