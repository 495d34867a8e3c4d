import { randomBytes } from 'node:crypto';

const alphabet = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A random id of `length` base-62 characters (about 5.95 bits each). */
export function randomId(length = 20): string {
  const bytes = randomBytes(length);
  let id = '';
  for (let index = 0; index < length; index += 1) id += alphabet[bytes[index]! % 62];
  return id;
}

/** Hold ids carry their show so `GET /v1/holds/{id}` can be routed without a lookup. */
export function newHoldId(showId: string, random: string = randomId(20)): string {
  return `${showId}.h${random}`;
}

export function showIdOfHold(holdId: string): string | null {
  const dot = holdId.lastIndexOf('.');
  return dot > 0 ? holdId.slice(0, dot) : null;
}
