/**
 * How hard the chaos suite pushes: `npm test` runs the short level (seconds per file, for CI);
 * `CHAOS_LEVEL=full` (what `npm run chaos` sets) raises fuzz runs, history sizes and run lengths.
 */
export const chaosLevel: 'short' | 'full' = process.env['CHAOS_LEVEL'] === 'full' ? 'full' : 'short';

/** `short` under the short level, `full` under the full one. */
export function byLevel<T>(short: T, full: T): T {
  return chaosLevel === 'full' ? full : short;
}
