// WebSocket framing for the benchmark (RFC 6455): the masked frames a client
// sends, the unmasked text frame a floor builds once for all its clients, and
// a reader of a server's frames that survives frames split across (or packed
// into) TCP reads.
import { randomBytes } from 'node:crypto';

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;

/** A masked client frame (RFC 6455 §5.3), as a browser sends it; a text frame unless told. */
export function clientFrame(text: string | Buffer, opcode = OP_TEXT): Buffer {
  const payload = Buffer.from(text);
  const head =
    payload.length < 126
      ? Buffer.from([0x80 | opcode, 0x80 | payload.length])
      : Buffer.from([0x80 | opcode, 0xfe, payload.length >> 8, payload.length & 0xff]);
  const mask = randomBytes(4);
  for (let i = 0; i < payload.length; i++)
    payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
  return Buffer.concat([head, mask, payload]);
}

/** A final, unmasked text frame around `payload`, as a server sends it (§5.2). */
export function serverTextFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const head =
    n < 126
      ? Buffer.from([0x80 | OP_TEXT, n])
      : n < 0x10000
        ? Buffer.from([0x80 | OP_TEXT, 126, n >> 8, n & 0xff])
        : Buffer.alloc(10);
  if (n >= 0x10000) {
    head[0] = 0x80 | OP_TEXT;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, payload]);
}

export interface FrameHandlers {
  /** A whole text (or binary) message, fragments joined. */
  message(payload: Buffer): void;
  /** The server pinged: the pong to write back. */
  pong(frame: Buffer): void;
  close(): void;
  /** The bytes broke the protocol (a masked server frame, say). */
  error(reason: string): void;
}

/** Reads a server's frames from the bytes after the 101 response. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];

  constructor(private readonly on: FrameHandlers) {}

  push(data: Buffer): void {
    let buf = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    for (;;) {
      if (buf.length < 2) break;
      const b0 = buf[0] as number;
      const b1 = buf[1] as number;
      if (b1 & 0x80) {
        this.on.error('a server frame was masked');
        buf = Buffer.alloc(0);
        break;
      }
      let length = b1 & 0x7f;
      let start = 2;
      if (length === 126) {
        if (buf.length < 4) break;
        length = buf.readUInt16BE(2);
        start = 4;
      } else if (length === 127) {
        if (buf.length < 10) break;
        length = Number(buf.readBigUInt64BE(2));
        start = 10;
      }
      if (buf.length < start + length) break;
      const payload = buf.subarray(start, start + length);
      buf = buf.subarray(start + length);
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode === OP_TEXT || opcode === OP_BINARY || opcode === OP_CONTINUATION) {
        if (fin && this.fragments.length === 0) this.on.message(payload);
        else {
          this.fragments.push(Buffer.from(payload));
          if (fin) this.on.message(Buffer.concat(this.fragments.splice(0)));
        }
      } else if (opcode === OP_PING) this.on.pong(clientFrame(payload, 0xa));
      else if (opcode === OP_CLOSE) this.on.close();
    }
    // Keep only the unread tail, copied so the socket's chunk can be freed.
    this.pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
  }
}
