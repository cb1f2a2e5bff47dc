// Types of /clients/pubsub.js, rx-streamer's pub/sub client for browsers.

import type { ConnectOptions, ConnectionState } from './reconnecting.js';

export type { ConnectionState } from './reconnecting.js';

export interface ChannelMessage<T = unknown> {
  readonly channel: string;
  readonly message: T;
  /** Its offset in the channel's history; absent for a message published without history. */
  readonly offset?: number;
}

/**
 * Where a channel stands in its history: the history's epoch (new whenever it
 * is lost) and the offset of the last message passed on (or the channel's top
 * when it was subscribed). A subscribe with `recover` resumes after it.
 */
export interface Position {
  readonly epoch: string;
  readonly offset: number;
}

/**
 * Told after each subscribe with `recover` is acknowledged (after a reconnect,
 * or a gap the server reported). `recovered: true`: every message missed follows,
 * in order, then live ones. `false`: nothing missed can be given back (the
 * history was lost or is too far behind); the channel goes on live from its
 * top, and the app reloads what it shows of it.
 */
export interface Recovery {
  readonly channel: string;
  readonly recovered: boolean;
}

/** `{"controlMessage":true,"content":…}`: acknowledgements, and refusals with `error`. */
export interface ControlMessage {
  readonly content: string;
  readonly error: boolean;
}

/** Reconnect backoff, the queue kept while down, and the socket (reconnecting.d.ts). */
export type ClientOptions = ConnectOptions;

export interface Events {
  message: ChannelMessage;
  control: ControlMessage;
  /** Frames that are neither: the replies of the server's receivers. */
  frame: unknown;
  state: ConnectionState;
  recovered: Recovery;
}

export interface PubsubClient {
  readonly state: ConnectionState;
  /** The channels it holds, subscribed again (recovering) after every reconnect. */
  readonly channels: readonly string[];
  /** Where a channel it holds stands, or undefined before its first acknowledgement. */
  position(channel: string): Position | undefined;
  /**
   * Holds a channel. With `recover` (a position kept from an earlier page, say)
   * it resumes after it, as it does by itself after a reconnect.
   */
  subscribe(channel: string, recover?: Position): void;
  /** Lets go of a channel, and of its position. */
  unsubscribe(channel: string): void;
  publish(channel: string, message: unknown): void;
  /** Sends any other frame, for the server's receivers. */
  send(frame: unknown): void;
  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(type: K, listener: (value: Events[K]) => void): () => void;
  /** Closes the connection for good. */
  close(): void;
}

/**
 * Connects to `url` (`/pubsub` on this page's host by default; ws/wss follows
 * the page), or to what `createSocket` makes of it (`new SockJS(url)`, say).
 */
export function connect(url?: string, options?: ClientOptions): PubsubClient;
