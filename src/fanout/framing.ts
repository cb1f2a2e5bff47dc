// How a transport puts messages on the wire. A family encodes each message once
// per encoding its clients use (SSE text, a WebSocket JSON text…); a framing
// then turns one turn's encoded messages into the bytes of a single write, once
// for every client that uses it (an HTTP chunk for SSE on a socket, plain bytes
// through a response, WebSocket frames).

export interface Framing {
  /** Shown in logs and tests. */
  readonly name: string;
  /** The encoding whose bytes it frames: a family supplies an encoder per encoding. */
  readonly encoding: string;
  /**
   * One write's bytes for a turn's encoded messages, in order. A per-connection
   * framing is also given the messages the parts were encoded from (none for a
   * connection's own sends, such as a status).
   */
  frame(parts: readonly Buffer[], messages?: readonly unknown[]): Buffer;
  /** Bytes that keep an idle connection open (an SSE comment), already framed. */
  readonly keepalive?: Buffer;
  /**
   * A framing of one connection's own (numbered SSE events): the encoded
   * messages are still shared, but each of its writes is framed anew.
   */
  readonly perConnection?: boolean;
}

/** Encoders by encoding name: `{ sse: (m) => sseMessage(…) }`. */
export type Encoders<M> = Readonly<Record<string, (message: M) => Buffer>>;

/** The parts as one buffer, without copying a single part. */
export function joined(parts: readonly Buffer[]): Buffer {
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}
