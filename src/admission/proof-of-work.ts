import { createHash } from 'node:crypto';

/**
 * Hashcash-style proof of work: find a nonce such that sha256(challenge + ':' + nonce) starts
 * with `difficulty` zero bits. Cheap to check, costly to mass-produce for a bot farm; the
 * challenge is a signed token bound to the fan and the show, so a solution cannot be shared.
 */
export function leadingZeroBits(digest: Uint8Array): number {
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

export function proofOfWorkDigest(challenge: string, nonce: string): Uint8Array {
  return createHash('sha256').update(challenge).update(':').update(nonce).digest();
}

export function isValidProofOfWork(challenge: string, nonce: string, difficulty: number): boolean {
  if (difficulty <= 0) return true;
  if (nonce.length === 0 || nonce.length > 64) return false;
  return leadingZeroBits(proofOfWorkDigest(challenge, nonce)) >= difficulty;
}

/** The solver the SDK runs (here for tests and the load harness); expected 2^difficulty hashes. */
export function solveProofOfWork(challenge: string, difficulty: number, maxAttempts = 1 << 26): string | null {
  for (let attempt = 0; attempt < maxAttempts; attempt += 1) {
    const nonce = attempt.toString(36);
    if (isValidProofOfWork(challenge, nonce, difficulty)) return nonce;
  }
  return null;
}
