/**
 * Idempotency keys: one fresh random key per user intent ("hold these seats", "pay this order"),
 * reused on every retry of that intent — by the SDK's own retries, and by the app when it retries
 * after a HoldfastNetworkError (`error.idempotencyKey`). The server stores the first outcome
 * under the key, so the intent happens at most once however many times it is sent.
 */

interface CryptoLike {
  randomUUID?: () => string;
  getRandomValues?: <T extends Uint8Array>(array: T) => T;
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');

/** A random UUID v4 (WebCrypto when present; React Native needs `react-native-get-random-values`). */
export function newIdempotencyKey(): string {
  const crypto = (globalThis as { crypto?: CryptoLike }).crypto;
  if (crypto?.randomUUID) return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  if (crypto?.getRandomValues) crypto.getRandomValues(bytes);
  else for (let index = 0; index < 16; index += 1) bytes[index] = Math.floor(Math.random() * 256); // last resort: still unique enough per user
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const h = hex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

