// One client of SockJS's HTTP transports (XHR streaming and polling,
// EventSource, JSONP…). The `sockjs` package frames messages itself (and
// batches them per poll), so the hub's turn of encoded messages goes in joined
// by newlines — JSON text never holds a raw one — and is split back into one
// SockJS message each.
import { Writable } from 'node:stream';
import type { Connection as SockJsSession } from 'sockjs';
import type { SessionRequest } from '../../core/session.js';
import type { ConnectionInfo } from '../../fanout/Connection.js';
import type { Framing } from '../../fanout/framing.js';
import { joined } from '../../fanout/framing.js';
import { SessionConnection, WS_CLOSE } from '../SessionConnection.js';

const NL = Buffer.from('\n');

/** The same encoded JSON as WebSocket clients get, one message a line. */
export const SOCKJS_LINES: Framing = {
  name: 'sockjs-lines',
  encoding: 'ws',
  frame: (parts) => {
    const out: Buffer[] = [];
    for (const part of parts) out.push(part, NL);
    return joined(out);
  },
};

/** Hands each line the hub writes to the SockJS session as one message. */
class SessionWriter extends Writable {
  constructor(private readonly session: SockJsSession) {
    super({ decodeStrings: true });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void): void {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(0x0a, start);
      if (end === -1) break;
      this.session.write(chunk.toString('utf8', start, end));
      start = end + 1;
    }
    done();
  }
}

/** The part of a sockjs session that holds what its client has not fetched yet. */
interface SessionQueue {
  readonly _session?: { readonly send_buffer?: readonly string[] };
}

export class SockJsConnection extends SessionConnection {
  constructor(
    info: ConnectionInfo,
    private readonly session: SockJsSession,
    request: SessionRequest,
    maxFrameBytes: number,
  ) {
    super(info, SOCKJS_LINES, new SessionWriter(session), request);
    session.once('close', () => this.finished());
    session.on('data', (text: string) => {
      // SockJS has no message limit of its own: the WebSocket one, and the same close code.
      if (Buffer.byteLength(text) > maxFrameBytes)
        this.closeWith(WS_CLOSE.tooBig, 'message too big');
      else this.received(text);
    });
  }

  /**
   * What the client has not fetched: sockjs queues a session's messages itself
   * until the client polls (or its streaming response drains), so this reads
   * that queue, and the hub bounds a client that stops fetching like any other.
   */
  override get unsentBytes(): number {
    const queue = (this.session as unknown as SessionQueue)._session?.send_buffer;
    let bytes = 0;
    if (queue) for (const message of queue) bytes += message.length;
    return bytes;
  }

  override write(bytes: Buffer): number {
    // sockjs sends no 'drain': a client is back under its bound once it has fetched everything.
    if (this.unsentBytes === 0) this.overSince = undefined;
    super.write(bytes);
    return this.unsentBytes;
  }

  override markOver(now: number): number {
    this.overSince ??= now;
    return now - this.overSince;
  }

  /** Sends one text message to this client alone (a control reply). */
  sendText(text: string): void {
    if (!this.closed) this.session.write(text);
  }

  end(goingAway = false, reason = ''): void {
    this.closeWith(goingAway ? 1001 : 1000, reason || (goingAway ? 'server going away' : ''));
  }

  closeWith(code: number, reason: string): void {
    this.stopWriting();
    // The close frame carries the code as a number (`c[1001,"…"]`); the typings say string.
    this.session.close(code as unknown as string, reason);
  }

  destroy(): void {
    this.closeWith(1001, 'dropped');
  }
}
