// What a protocol sees of one client of a message transport (a WebSocket, or
// SockJS over any of its transports): the request it came with, a way to send
// it text and to close it, and the end of it. Transports make sessions and feed
// their messages to the protocol's handler; a protocol never sees a socket.
import type { IncomingHttpHeaders } from 'node:http';
import type { StreamerError } from './errors.js';

/** The request a session was opened with, whichever transport carried it. */
export interface SessionRequest {
  /** The endpoint's path (`/pubsub`), also for SockJS sessions at `/pubsub/…`. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** The handshake's headers; SockJS's HTTP transports pass on only some, never cookies. */
  readonly headers: IncomingHttpHeaders;
  /** The Cookie header's pairs, decoded. */
  readonly cookies: Readonly<Record<string, string>>;
  /** The client's address (from X-Forwarded-For behind a trusted proxy). */
  readonly ip: string;
  readonly userAgent: string;
  /** How it is carried: `websocket`, `sockjs-websocket`, `xhr_streaming`, `xhr`… */
  readonly transport: string;
}

/** One client of a message endpoint. */
export interface Session {
  readonly request: SessionRequest;
  /** True once the session is closing or over: nothing more is sent. */
  readonly closed: boolean;
  /** Sends this client alone one text message (a control reply), within the hub's bounds. */
  sendText(text: string): void;
  /** Ends the session with a WebSocket close code (1000 unless given) and a reason. */
  close(code?: number, reason?: string): void;
  /** Runs `listener` once the session is over, however it ended (at once if it is). */
  whenEnded(listener: () => void): void;
  /** What the status document lists for it besides the transport's own fields. */
  describe: (() => Readonly<Record<string, unknown>>) | undefined;
}

/** What a protocol does with one session's messages. */
export interface SessionHandler {
  /** One message from the client: text, or the bytes of a binary WebSocket frame. */
  message(frame: string | Buffer): void;
}

/** A protocol's endpoint for message transports. */
export interface SessionEndpoint {
  /** Checks a request before its session opens: a StreamerError refuses it with its status. */
  accept?(request: SessionRequest): StreamerError | undefined;
  /** A session opened (and is in the hub): returns what takes its messages. */
  connect(session: Session): SessionHandler;
}

/** Serves message endpoints: each path over a plain WebSocket and SockJS at `<path>/`. */
export interface SessionTransports {
  serve(path: string, endpoint: SessionEndpoint): void;
}
