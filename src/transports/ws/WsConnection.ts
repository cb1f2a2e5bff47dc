// One WebSocket client of the hub. The hub's frames go straight to the socket
// (see wsFraming.ts), beside the frames `ws` writes itself (pings, pongs,
// close), which are whole frames too; incoming frames, limits and the closing
// handshake are `ws`'s. Each text frame is one message for the protocol.
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { SessionRequest } from '../../core/session.js';
import type { ConnectionInfo } from '../../fanout/Connection.js';
import type { Framing } from '../../fanout/framing.js';
import { SessionConnection, WS_CLOSE } from '../SessionConnection.js';
import { WS_TEXT } from './wsFraming.js';

export { WS_CLOSE } from '../SessionConnection.js';

/** Close reasons are at most this many bytes (RFC 6455 §5.5: control frames carry 125). */
const MAX_REASON_BYTES = 123;

/**
 * A code and reason `ws` will send: it throws on a code RFC 6455 does not allow
 * on the wire (1005, 1006, 5000…) or a reason over 123 bytes, and a protocol's
 * mistake must not become a throw inside a socket's event handler.
 */
export function wireClose(code: number, reason: string): [number, string] {
  const valid =
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
      (code >= 3000 && code <= 4999));
  const bytes = Buffer.from(reason);
  let end = Math.min(bytes.length, MAX_REASON_BYTES);
  // Not in the middle of a character: back to the start of the one cut.
  while (end < bytes.length && end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return [valid ? code : WS_CLOSE.internal, bytes.toString('utf8', 0, end)];
}

export class WsConnection extends SessionConnection {
  /** Answered the last ping (or has not been pinged yet). */
  alive = true;

  constructor(
    info: ConnectionInfo,
    readonly ws: WebSocket,
    socket: Socket,
    request: SessionRequest,
    framing: Framing = WS_TEXT,
  ) {
    super(info, framing, socket, request);
    ws.on('pong', () => (this.alive = true));
    ws.once('close', () => this.finished());
    ws.on('message', (data: Buffer, isBinary: boolean) => this.frame(data, isBinary));
  }

  /** Sends one text message to this client alone (a control reply). */
  sendText(text: string): void {
    this.send([Buffer.from(text)]);
  }

  override write(bytes: Buffer): number {
    // Once a close frame is on its way, nothing may follow it.
    if (this.ws.readyState !== this.ws.OPEN) return 0;
    return super.write(bytes);
  }

  end(goingAway = false, reason = ''): void {
    this.closeWith(
      goingAway ? WS_CLOSE.goingAway : WS_CLOSE.normal,
      reason || (goingAway ? 'server going away' : ''),
    );
  }

  /** Ends with a code of the caller's, e.g. 1008 for a policy violation. */
  closeWith(code: number, reason: string): void {
    this.stopWriting();
    this.ws.close(...wireClose(code, reason));
  }

  destroy(): void {
    this.stopWriting();
    this.ws.terminate();
  }

  /** One frame from the client: a text frame is one message. */
  protected frame(data: Buffer, isBinary: boolean): void {
    this.received(isBinary ? data : data.toString('utf8'));
  }
}
