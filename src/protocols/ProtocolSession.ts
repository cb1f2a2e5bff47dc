// What every WebSocket protocol's handler shares: one per session, it reads the
// session's frames and answers with control frames. It is also the client the
// application's hooks see (an id, the request, send, close), so no separate
// facade is kept per client.
import type { Session, SessionHandler, SessionRequest } from '../core/session.js';
import { controlError, controlMessage, toJson } from './controlFrames.js';

/** The counters a protocol keeps for its sessions. */
export interface SessionCounts {
  /** Control errors sent. */
  controlErrors: number;
}

let lastId = 0;

export abstract class ProtocolSession implements SessionHandler {
  /** Unique in this process. */
  readonly id = String(++lastId);

  protected constructor(
    protected readonly session: Session,
    private readonly counts: SessionCounts,
  ) {}

  get request(): SessionRequest {
    return this.session.request;
  }

  /** Sends this client alone a frame (any JSON value). */
  send(frame: unknown): void {
    this.session.sendText(toJson(frame));
  }

  /** Closes the session (1000, or the code given). */
  close(code?: number, reason?: string): void {
    this.session.close(code, reason);
  }

  abstract message(frame: string | Buffer): void;

  /** A control reply: `{"controlMessage":true,"content":…}`. */
  protected reply(content: string): void {
    this.session.sendText(controlMessage(content));
  }

  /** A control error, counted; the session stays open. */
  protected fail(content: string): void {
    this.counts.controlErrors++;
    this.session.sendText(controlError(content));
  }

  /** Runs work of the session's, and answers a failure of it with a control error. */
  protected guard(work: Promise<unknown>, what: string, log: (error: string) => void): void {
    work.catch((err: unknown) => {
      log(String(err));
      if (!this.session.closed) this.fail(`the server could not ${what}`);
    });
  }
}
