// Types of /clients/reconnecting.js, the reconnecting WebSocket under rx-streamer's browser clients.

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface BackoffOptions {
  /** The first reconnect waits up to this long (default 500 ms)… */
  readonly minDelayMs?: number;
  /** …doubling up to this (default 30 s); each delay is picked at random below it. */
  readonly maxDelayMs?: number;
  /** Frames kept while disconnected, oldest dropped first (default 1000). */
  readonly maxQueued?: number;
}

/**
 * What the clients use of a socket: a WebSocket has it, and so has a SockJS.
 * They set its `onopen`, `onmessage` (reading `event.data`, a string) and
 * `onclose`, typed loosely here so that either's own handler types fit.
 */
export interface SocketLike {
  /** WebSocket's values: 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  onopen: unknown;
  onmessage: unknown;
  onclose: unknown;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface ConnectOptions extends BackoffOptions {
  /**
   * Makes the socket for each attempt from the URL as given (a SockJS, say:
   * `(url) => new SockJS(url)`); by default a WebSocket, ws or wss as the page.
   */
  readonly createSocket?: (url: string) => SocketLike;
}

export interface SocketOptions extends ConnectOptions {
  /**
   * On every open, before the state becomes `open` and before the queued
   * frames: `sendNow` writes a frame to the new socket.
   */
  readonly onOpen?: (sendNow: (frame: unknown) => void) => void;
  /** Each frame received: parsed from JSON, or as it came when it is not JSON. */
  readonly onFrame?: (frame: unknown) => void;
  /** Each change of state; the first, `connecting`, is not reported. */
  readonly onState?: (state: ConnectionState) => void;
}

export interface ReconnectingSocket {
  readonly state: ConnectionState;
  /** Sends the frame as JSON now when open; otherwise queues it for the next open. */
  send(frame: unknown): void;
  /** Sends the frame as JSON now when open and returns true; otherwise returns false. */
  sendIfOpen(frame: unknown): boolean;
  /** Closes the socket for good; the state becomes `closed`. */
  close(): void;
}

export const DEFAULTS: Readonly<Required<BackoffOptions>>;

/** A path on this page's host, or a full URL, as a ws: or wss: URL (wss when the page is https). */
export function socketUrl(url: string): string;

export interface Listeners<E> {
  emit<K extends keyof E>(type: K, value: E[K]): void;
  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(type: K, listener: (value: E[K]) => void): () => void;
}

/** Listeners by event type; one that throws is reported apart and the others still run. */
export function listeners<E>(types: readonly (keyof E)[]): Listeners<E>;

/**
 * Connects to `url` (asked again before every attempt when a function) until
 * `close()`; a path is taken on this page's host.
 */
export function reconnectingSocket(
  url: string | (() => string),
  options?: SocketOptions,
): ReconnectingSocket;
