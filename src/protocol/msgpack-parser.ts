import { Emitter } from '@socket.io/component-emitter';
import { Packr } from 'msgpackr';

/**
 * A socket.io parser that encodes every packet as one MessagePack frame (msgpackr).
 * Binary values (seat-status arrays) travel natively, with no base64 and no attachments.
 * The same module is used by the server and the client SDK; both must choose it.
 */
export const packetType = { CONNECT: 0, DISCONNECT: 1, EVENT: 2, ACK: 3, CONNECT_ERROR: 4 } as const;

export interface Packet {
  type: number;
  nsp: string;
  data?: unknown;
  id?: number;
}

/** Frames larger than this are refused before decoding. */
export const msgpackFrameBytesMax = 1_000_000;

// Records (structures) are off so every frame decodes on its own, whoever decodes it.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

export class Encoder {
  encode(packet: Packet): Uint8Array[] {
    const frame: Packet = { type: packet.type, nsp: packet.nsp };
    if (packet.data !== undefined) frame.data = packet.data;
    if (packet.id !== undefined) frame.id = packet.id;
    return [packr.pack(frame)];
  }
}

interface DecoderEvents {
  decoded: (packet: Packet) => void;
}

export class Decoder extends Emitter<Record<string, never>, Record<string, never>, DecoderEvents> {
  add(chunk: unknown): void {
    if (typeof chunk === 'string') throw new Error('msgpack parser: text frames are not accepted');
    const bytes = chunk instanceof Uint8Array ? chunk : chunk instanceof ArrayBuffer ? new Uint8Array(chunk) : null;
    if (bytes === null) throw new Error('msgpack parser: unsupported frame');
    if (bytes.byteLength > msgpackFrameBytesMax) throw new Error('msgpack parser: frame too large');
    const packet = packr.unpack(bytes) as unknown;
    if (!isValidPacket(packet)) throw new Error('msgpack parser: invalid packet');
    this.emitReserved('decoded', packet);
  }

  destroy(): void {}
}

function isValidPacket(value: unknown): value is Packet {
  if (typeof value !== 'object' || value === null) return false;
  const packet = value as Record<string, unknown>;
  if (typeof packet['nsp'] !== 'string' || (packet['id'] !== undefined && !(Number.isInteger(packet['id']) && (packet['id'] as number) >= 0))) return false;
  const data = packet['data'];
  switch (packet['type']) {
    case packetType.CONNECT:
      return data === undefined || (typeof data === 'object' && data !== null && !Array.isArray(data));
    case packetType.DISCONNECT:
      return data === undefined;
    case packetType.EVENT:
      return Array.isArray(data) && data.length > 0 && typeof data[0] === 'string';
    case packetType.ACK:
      return Array.isArray(data);
    case packetType.CONNECT_ERROR:
      return typeof data === 'string' || (typeof data === 'object' && data !== null);
    default:
      return false;
  }
}
