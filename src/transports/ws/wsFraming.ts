// WebSocket frames as the hub writes them: each encoded message becomes one
// unmasked text frame (RFC 6455 §5.2), built once for every client of a topic,
// so a thousand subscribers get the same bytes from one encoding.
import type { Framing } from '../../fanout/framing.js';
import { joined } from '../../fanout/framing.js';

const FIN_TEXT = 0x81;

/** The header of a final, unmasked text frame carrying `length` bytes. */
export function textFrameHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([FIN_TEXT, length]);
  if (length < 0x10000) {
    const header = Buffer.allocUnsafe(4);
    header[0] = FIN_TEXT;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
    return header;
  }
  const header = Buffer.allocUnsafe(10);
  header[0] = FIN_TEXT;
  header[1] = 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

/** One text frame per part (each a UTF-8 message), in order, as one buffer. */
export const WS_TEXT: Framing = {
  name: 'ws-text',
  encoding: 'ws',
  frame: (parts) => {
    const out: Buffer[] = [];
    for (const part of parts) out.push(textFrameHeader(part.length), part);
    return joined(out);
  },
};
