/** A broken invariant found by the simulator: which one, and what was seen. */
export class SimulationFailure extends Error {
  override name = 'SimulationFailure';
  constructor(
    readonly invariant: string,
    readonly detail: string,
  ) {
    super(`${invariant}: ${detail}`);
  }
}

export function fail(invariant: string, detail: string): never {
  throw new SimulationFailure(invariant, detail);
}

export function check(condition: unknown, invariant: string, detail: () => string): asserts condition {
  if (!condition) throw new SimulationFailure(invariant, detail());
}
