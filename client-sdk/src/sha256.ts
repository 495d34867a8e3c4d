/**
 * A small, dependency-free SHA-256 (FIPS 180-4) that runs the same in browsers, Node and React
 * Native (no node:crypto, no WebCrypto, which is async per hash and missing in React Native).
 * `Sha256Prefix` hashes a fixed prefix once and then many suffixes cheaply — the shape of the
 * proof-of-work search, where only the nonce changes.
 */

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const initialState = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** UTF-8 bytes of a string (TextEncoder is not everywhere in React Native). */
export function utf8Bytes(text: string): Uint8Array {
  const bytes: number[] = [];
  for (let index = 0; index < text.length; index += 1) {
    let code = text.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      const low = text.charCodeAt(index + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        index += 1;
      }
    }
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    else bytes.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
  }
  return Uint8Array.from(bytes);
}

const w = new Uint32Array(64);

function compress(state: Uint32Array, block: Uint8Array, offset: number): void {
  for (let t = 0; t < 16; t += 1) {
    const i = offset + t * 4;
    w[t] = ((block[i]! << 24) | (block[i + 1]! << 16) | (block[i + 2]! << 8) | block[i + 3]!) >>> 0;
  }
  for (let t = 16; t < 64; t += 1) {
    const x = w[t - 15]!;
    const y = w[t - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) >>> 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let t = 0; t < 64; t += 1) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + K[t]! + w[t]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) >>> 0;
  state[1] = (state[1]! + b) >>> 0;
  state[2] = (state[2]! + c) >>> 0;
  state[3] = (state[3]! + d) >>> 0;
  state[4] = (state[4]! + e) >>> 0;
  state[5] = (state[5]! + f) >>> 0;
  state[6] = (state[6]! + g) >>> 0;
  state[7] = (state[7]! + h) >>> 0;
}

/** SHA-256 state after a fixed prefix: `digest(suffix)` = sha256(prefix ‖ suffix). */
export class Sha256Prefix {
  private readonly midstate = new Uint32Array(initialState);
  private readonly tail: Uint8Array;
  private readonly prefixLength: number;
  private readonly work = new Uint32Array(8);
  private buffer = new Uint8Array(128);

  constructor(prefix: Uint8Array) {
    const fullBlocks = Math.floor(prefix.length / 64);
    for (let block = 0; block < fullBlocks; block += 1) compress(this.midstate, prefix, block * 64);
    this.tail = prefix.slice(fullBlocks * 64);
    this.prefixLength = prefix.length;
  }

  digest(suffix: Uint8Array): Uint8Array {
    const state = this.work;
    state.set(this.midstate);
    const restLength = this.tail.length + suffix.length;
    const paddedLength = Math.ceil((restLength + 9) / 64) * 64;
    if (this.buffer.length < paddedLength) this.buffer = new Uint8Array(paddedLength);
    const buffer = this.buffer;
    buffer.fill(0, 0, paddedLength);
    buffer.set(this.tail, 0);
    buffer.set(suffix, this.tail.length);
    buffer[restLength] = 0x80;
    const bitLength = (this.prefixLength + suffix.length) * 8;
    const high = Math.floor(bitLength / 0x100000000);
    const low = bitLength >>> 0;
    buffer[paddedLength - 8] = (high >>> 24) & 255;
    buffer[paddedLength - 7] = (high >>> 16) & 255;
    buffer[paddedLength - 6] = (high >>> 8) & 255;
    buffer[paddedLength - 5] = high & 255;
    buffer[paddedLength - 4] = (low >>> 24) & 255;
    buffer[paddedLength - 3] = (low >>> 16) & 255;
    buffer[paddedLength - 2] = (low >>> 8) & 255;
    buffer[paddedLength - 1] = low & 255;
    for (let offset = 0; offset < paddedLength; offset += 64) compress(state, buffer, offset);
    const out = new Uint8Array(32);
    for (let index = 0; index < 8; index += 1) {
      const word = state[index]!;
      out[index * 4] = word >>> 24;
      out[index * 4 + 1] = (word >>> 16) & 255;
      out[index * 4 + 2] = (word >>> 8) & 255;
      out[index * 4 + 3] = word & 255;
    }
    return out;
  }
}

/** SHA-256 of bytes or of a string's UTF-8 bytes. */
export function sha256(data: Uint8Array | string): Uint8Array {
  return new Sha256Prefix(new Uint8Array(0)).digest(typeof data === 'string' ? utf8Bytes(data) : data);
}

export function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
