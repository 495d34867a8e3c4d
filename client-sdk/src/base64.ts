const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const lookup = new Int16Array(128).fill(-1);
for (let index = 0; index < alphabet.length; index += 1) lookup[alphabet.charCodeAt(index)] = index;
lookup['-'.charCodeAt(0)] = 62;
lookup['_'.charCodeAt(0)] = 63;

/** Base64 (standard or URL-safe, padding optional) to bytes, without atob or Buffer (React Native). */
export function decodeBase64(text: string): Uint8Array {
  const clean = text.replace(/[\s=]+/g, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let length = 0;
  for (let index = 0; index < clean.length; index += 1) {
    const digit = lookup[clean.charCodeAt(index)] ?? -1;
    if (digit < 0) throw new Error('not base64');
    value = ((value << 6) | digit) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[length] = (value >> bits) & 255;
      length += 1;
    }
  }
  return out.subarray(0, length);
}
