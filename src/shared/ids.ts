import { randomBytes } from 'node:crypto';

const alphabet = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

// One system call per 4 KiB of entropy instead of one per id: ids are minted on the hold path.
const entropyPoolBytes = 4096;
let entropy = randomBytes(entropyPoolBytes);
let entropyUsed = 0;

/** A random id of `length` base-62 characters (about 5.95 bits each). */
export function randomId(length = 20): string {
  if (length > entropyPoolBytes) throw new RangeError('id too long');
  if (entropyUsed + length > entropyPoolBytes) {
    entropy = randomBytes(entropyPoolBytes);
    entropyUsed = 0;
  }
  let id = '';
  for (let index = 0; index < length; index += 1) id += alphabet[entropy[entropyUsed + index]! % 62];
  entropyUsed += length;
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
