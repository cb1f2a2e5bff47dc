// One WebSocket client of the hub. The hub's frames go straight to the socket
// (see wsFraming.ts), beside the frames `ws` writes itself (pings, pongs,
// close), which are whole frames too; incoming frames, limits and the closing
// handshake are `ws`'s.
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { Connection } from '../../fanout/Connection.js';
import type { ConnectionInfo } from '../../fanout/Connection.js';
import { WS_TEXT } from './wsFraming.js';

/** Close codes (RFC 6455 §7.4.1). */
export const WS_CLOSE = { normal: 1000, goingAway: 1001, policy: 1008, tooBig: 1009 } as const;

export class WsConnection extends Connection {
  /** Answered the last ping (or has not been pinged yet). */
  alive = true;

  constructor(
    info: ConnectionInfo,
    readonly ws: WebSocket,
    socket: Socket,
  ) {
    super(info, WS_TEXT, socket);
    ws.on('pong', () => (this.alive = true));
    ws.once('close', () => this.finished());
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
    this.stopWriting();
    this.ws.close(goingAway ? WS_CLOSE.goingAway : WS_CLOSE.normal, reason);
  }

  /** Ends with a code of the caller's, e.g. 1008 for a policy violation. */
  closeWith(code: number, reason: string): void {
    this.stopWriting();
    this.ws.close(code, reason);
  }

  destroy(): void {
    this.stopWriting();
    this.ws.terminate();
  }
}
