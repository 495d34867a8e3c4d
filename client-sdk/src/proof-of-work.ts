import { HoldfastAbortError } from './errors.js';
import { Sha256Prefix, utf8Bytes } from './sha256.js';

/**
 * The waiting room's hashcash: find a nonce such that sha256(challenge + ':' + nonce) starts with
 * `difficulty` zero bits (the server checks it in src/admission/proof-of-work.ts). Expected work
 * is 2^difficulty hashes. The search yields to the event loop every `sliceHashes` hashes so a
 * browser or React Native UI stays responsive, and stops when `signal` fires.
 */
export interface ProofOfWorkOptions {
  signal?: AbortSignal;
  /** Hashes between yields to the event loop. */
  sliceHashes?: number;
  /** Called after each slice with the hashes tried so far. */
  onProgress?: (hashes: number) => void;
  /** Give up after this many hashes (default 2^32). */
  maxHashes?: number;
}

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

/** Whether `nonce` solves `challenge` at `difficulty` (the server's check, for tests and tools). */
export function checkProofOfWork(challenge: string, nonce: string, difficulty: number): boolean {
  if (difficulty <= 0) return true;
  return leadingZeroBits(new Sha256Prefix(utf8Bytes(`${challenge}:`)).digest(utf8Bytes(nonce))) >= difficulty;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Finds a nonce (base-36 counter, like the server's reference solver). */
export async function solveProofOfWork(challenge: string, difficulty: number, options: ProofOfWorkOptions = {}): Promise<string> {
  if (difficulty <= 0) return '0';
  const prefix = new Sha256Prefix(utf8Bytes(`${challenge}:`));
  const sliceHashes = options.sliceHashes ?? 4_096;
  const maxHashes = options.maxHashes ?? 2 ** 32;
  const nonceBytes = new Uint8Array(16);
  for (let attempt = 0; attempt < maxHashes; ) {
    if (options.signal?.aborted) throw new HoldfastAbortError('proof of work aborted');
    const sliceEnd = Math.min(maxHashes, attempt + sliceHashes);
    for (; attempt < sliceEnd; attempt += 1) {
      const nonce = attempt.toString(36);
      for (let index = 0; index < nonce.length; index += 1) nonceBytes[index] = nonce.charCodeAt(index);
      if (leadingZeroBits(prefix.digest(nonceBytes.subarray(0, nonce.length))) >= difficulty) return nonce;
    }
    options.onProgress?.(attempt);
    await yieldToEventLoop();
  }
  throw new Error(`no proof-of-work solution within ${maxHashes} hashes`);
}
