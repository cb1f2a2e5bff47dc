// SockJS's framed WebSocket transport (`<prefix>/<server>/<session>/websocket`,
// what sockjs-client uses first), served on `ws` like a plain WebSocket: the
// server opens with `o`, sends each turn's messages as one `a[…]` frame built
// once for every client, beats `h` on the hub's keepalive and closes with
// `c[code,"reason"]`; the client sends JSON arrays of strings. The frame limit,
// pings and slow-client bounds are the WebSocket transport's own.
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { StreamerError } from '../../core/errors.js';
import type { SessionRequest } from '../../core/session.js';
import type { ConnectionInfo } from '../../fanout/Connection.js';
import type { Framing } from '../../fanout/framing.js';
import { WS_CLOSE, WsConnection } from '../ws/WsConnection.js';
import { textFrameHeader } from '../ws/wsFraming.js';

/** One unmasked WebSocket text frame carrying `text`. */
function textFrame(text: string): Buffer {
  const body = Buffer.from(text);
  return Buffer.concat([textFrameHeader(body.length), body]);
}

const OPEN = textFrame('o');

/** Opens and at once closes a SockJS WebSocket that was refused, so its client reads why. */
export function refuseSockJsWs(ws: WebSocket, error: StreamerError): void {
  ws.send('o');
  ws.send(`c${JSON.stringify([sockJsRefusalCode(error), error.message])}`);
  ws.close(WS_CLOSE.normal);
}

/** A turn's encoded messages as one SockJS message array in one text frame. */
export const SOCKJS_WS: Framing = {
  name: 'sockjs-ws',
  encoding: 'ws',
  frame: (parts) => {
    let text = 'a[';
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) text += ',';
      text += JSON.stringify((parts[i] as Buffer).toString('utf8'));
    }
    return textFrame(`${text}]`);
  },
  keepalive: textFrame('h'),
};

/**
 * The close code a SockJS session refused before it opened is closed with:
 * SockJS clients see a session close, not an HTTP status, so 4000 + the status
 * (4400, 4403; 4503 for a server at its bounds), with the error's message as reason.
 */
export function sockJsRefusalCode(error: StreamerError): number {
  return 4000 + error.status;
}

/** SockJS's close code for a client frame that is not a JSON string or array of strings. */
const BROKEN_FRAMING = 3000;

export class SockJsWsConnection extends WsConnection {
  constructor(info: ConnectionInfo, ws: WebSocket, socket: Socket, request: SessionRequest) {
    super(info, ws, socket, request, SOCKJS_WS);
    this.write(OPEN);
  }

  override closeWith(code: number, reason: string): void {
    // SockJS clients read the code from the close frame; the WebSocket's own is 1000.
    if (!this.closed) this.write(textFrame(`c${JSON.stringify([code, reason])}`));
    super.closeWith(code === WS_CLOSE.goingAway ? code : WS_CLOSE.normal, reason);
  }

  protected override frame(data: Buffer, isBinary: boolean): void {
    if (isBinary) return this.closeWith(BROKEN_FRAMING, 'Broken framing.');
    const text = data.toString('utf8');
    if (text === '') return;
    let messages: unknown;
    try {
      messages = JSON.parse(text);
    } catch {
      return this.closeWith(BROKEN_FRAMING, 'Broken framing.');
    }
    if (typeof messages === 'string') return this.received(messages);
    if (!Array.isArray(messages) || !messages.every((m) => typeof m === 'string'))
      return this.closeWith(BROKEN_FRAMING, 'Broken framing.');
    for (const message of messages) {
      if (this.closed) return;
      this.received(message);
    }
  }
}
