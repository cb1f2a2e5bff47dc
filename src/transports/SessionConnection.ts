// A hub connection that is also a protocol's session: the message transports'
// clients (WebSocket, SockJS). It carries the request it was opened with and
// hands the client's messages to the protocol's handler, so that a handler that
// throws closes its own session (1011) and nothing else.
import type { Logger } from '../core/logger.js';
import type { Session, SessionEndpoint, SessionHandler, SessionRequest } from '../core/session.js';
import { Connection } from '../fanout/Connection.js';
import type { ConnectionInfo } from '../fanout/Connection.js';
import type { Framing } from '../fanout/framing.js';
import type { Hub } from '../fanout/Hub.js';
import type { Writable } from 'node:stream';

/** Close codes (RFC 6455 §7.4.1). */
export const WS_CLOSE = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
} as const;

export abstract class SessionConnection extends Connection implements Session {
  private handler: SessionHandler | undefined;
  private log: Logger | undefined;
  /** Messages a second it may send (0: any); a bucket of that many, refilled as time passes. */
  private rate = 0;
  private tokens = 0;
  private refilledAt = 0;

  protected constructor(
    info: ConnectionInfo,
    framing: Framing,
    out: Writable,
    readonly request: SessionRequest,
  ) {
    super(info, framing, out);
  }

  /** Sends one text message to this client alone. */
  abstract sendText(text: string): void;

  /** Ends the session with a close code and reason, the transport's way. */
  abstract closeWith(code: number, reason: string): void;

  close(code: number = WS_CLOSE.normal, reason = ''): void {
    this.closeWith(code, reason);
  }

  /**
   * Puts the session in the hub and lets the endpoint open it; an endpoint that
   * throws closes this session (1011). A client that sends more than
   * `maxMessagesPerS` messages in a second (a SockJS batch counts each) is
   * closed with 1008: what one message may cost the server is bounded, so how
   * many it handles must be too.
   */
  open(hub: Hub, endpoint: SessionEndpoint, log: Logger, maxMessagesPerS = 0): void {
    this.log = log;
    this.rate = maxMessagesPerS;
    this.tokens = maxMessagesPerS;
    this.refilledAt = Date.now();
    hub.attach(this, { service: this.request.path });
    try {
      this.handler = endpoint.connect(this);
    } catch (err) {
      log.error('an endpoint failed to open a session', {
        path: this.request.path,
        error: String(err),
      });
      this.closeWith(WS_CLOSE.internal, 'internal error');
    }
  }

  /** One message from the client, for the protocol. */
  protected received(frame: string | Buffer): void {
    if (this.closed || !this.handler) return;
    if (this.rate > 0 && !this.take()) {
      this.closeWith(WS_CLOSE.policy, `more than ${this.rate} messages a second`);
      return;
    }
    try {
      this.handler.message(frame);
    } catch (err) {
      this.log?.error('a protocol failed on a message', {
        path: this.request.path,
        error: String(err),
      });
      this.closeWith(WS_CLOSE.internal, 'internal error');
    }
  }

  /** Takes one message's token; false when the client has used up its rate. */
  private take(): boolean {
    if (this.tokens < 1) {
      const now = Date.now();
      this.tokens = Math.min(this.rate, this.tokens + ((now - this.refilledAt) * this.rate) / 1000);
      this.refilledAt = now;
      if (this.tokens < 1) return false;
    }
    this.tokens--;
    return true;
  }
}
