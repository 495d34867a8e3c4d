import { randomBytes } from 'node:crypto';

const alphabet = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const alphabetCodes = Uint8Array.from(alphabet, (char) => char.charCodeAt(0));
const idScratch = Buffer.allocUnsafe(64);

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
  // The characters go into a scratch buffer read out as one flat string: appending them one by
  // one built a chain of 20 partial strings per id (a twentieth of the actor's allocations).
  const scratch = length <= idScratch.length ? idScratch : Buffer.allocUnsafe(length);
  for (let index = 0; index < length; index += 1) scratch[index] = alphabetCodes[entropy[entropyUsed + index]! % 62]!;
  entropyUsed += length;
  return scratch.toString('latin1', 0, length);
}

/** Hold ids carry their show so `GET /v1/holds/{id}` can be routed without a lookup. */
export function newHoldId(showId: string, random: string = randomId(20)): string {
  return `${showId}.h${random}`;
}

export function showIdOfHold(holdId: string): string | null {
  const dot = holdId.lastIndexOf('.');
  return dot > 0 ? holdId.slice(0, dot) : null;
}
