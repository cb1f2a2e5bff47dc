// The two ways an SSE turn goes on the wire: as one HTTP/1.1 chunk written
// straight to the socket (streams the server framed itself), or as plain SSE
// bytes through a ServerResponse that frames them (HTTP/1.0, pipelined requests).
import type { Framing } from '../../fanout/framing.js';
import { joined } from '../../fanout/framing.js';
import { sseComment } from './sseEncode.js';

const CRLF = Buffer.from('\r\n');
/** The end of a chunked body. */
export const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/** Bytes framed as one HTTP/1.1 chunk. */
export function httpChunk(bytes: Buffer): Buffer {
  return httpChunkOf([bytes]);
}

/** Parts joined into one HTTP/1.1 chunk, copied once (a turn's events, say). */
export function httpChunkOf(parts: readonly Buffer[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.length;
  const head = `${length.toString(16)}\r\n`;
  const chunk = Buffer.allocUnsafe(head.length + length + CRLF.length);
  let at = chunk.write(head, 0, 'latin1');
  for (const part of parts) at += part.copy(chunk, at);
  CRLF.copy(chunk, at);
  return chunk;
}

const KEEPALIVE = sseComment('');

export const SSE_CHUNKED: Framing = {
  name: 'sse-chunked',
  encoding: 'sse',
  frame: httpChunkOf,
  keepalive: httpChunk(KEEPALIVE),
};

export const SSE_PLAIN: Framing = {
  name: 'sse',
  encoding: 'sse',
  frame: joined,
  keepalive: KEEPALIVE,
};

/**
 * Where a connection's event ids come from: the id of each event it writes,
 * given the message the event was encoded from (undefined for the
 * connection's own sends, such as a status), in the order they are written.
 */
export type EventIds = (message: unknown) => string;

/**
 * A connection's own framing that gives each encoded event (which carries no
 * id of its own) an `id:` line from `ids`, in the order events are written,
 * whatever order the hub writes its topics in. No keepalive comment: such
 * streams keep themselves alive with events of their own.
 */
export function eventIds(base: Framing, ids: EventIds): Framing {
  return {
    name: `${base.name}+id`,
    encoding: base.encoding,
    perConnection: true,
    frame: (parts, messages) => {
      const out: Buffer[] = [];
      for (let i = 0; i < parts.length; i++)
        out.push(Buffer.from(`id:${ids(messages?.[i])}\n`), parts[i] as Buffer);
      return base.frame(out);
    },
  };
}

/** Events numbered `id:<n>`, counting up from `firstId` in the order they are written. */
export function numberedEvents(base: Framing, firstId = 1): Framing {
  let next = firstId;
  return eventIds(base, () => String(next++));
}
