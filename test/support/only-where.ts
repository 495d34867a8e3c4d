import { it } from 'vitest';

/**
 * Registers a test only where it applies (e.g. PostgreSQL-only concurrency), instead of
 * skipping it: under CI a skipped test means a missing server, and fails the run.
 */
export function onlyWhere(applies: boolean): (name: string, test: () => Promise<void> | void, timeoutMs?: number) => void {
  return applies ? (name, test, timeoutMs) => it(name, test, timeoutMs) : () => undefined;
}
