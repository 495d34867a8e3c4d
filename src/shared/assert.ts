/** Thrown when an invariant does not hold: a bug, never an expected outcome. */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

/** Stops the caller when an invariant breaks; a show actor that hits one recovers from its journal. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

export function unreachable(value: never, what: string): never {
  throw new InvariantError(`unreachable ${what}: ${JSON.stringify(value)}`);
}
