// Types of /clients/pubsub.js, rx-streamer's pub/sub client for browsers.

import type { BackoffOptions, ConnectionState } from './reconnecting.js';

export type { ConnectionState } from './reconnecting.js';

export interface ChannelMessage<T = unknown> {
  readonly channel: string;
  readonly message: T;
}

/** `{"controlMessage":true,"content":…}`: acknowledgements, and refusals with `error`. */
export interface ControlMessage {
  readonly content: string;
  readonly error: boolean;
}

/** Reconnect backoff and the queue kept while down (reconnecting.d.ts). */
export type ClientOptions = BackoffOptions;

export interface Events {
  message: ChannelMessage;
  control: ControlMessage;
  /** Frames that are neither: the replies of the server's receivers. */
  frame: unknown;
  state: ConnectionState;
}

export interface PubsubClient {
  readonly state: ConnectionState;
  /** The channels it holds, subscribed again after every reconnect. */
  readonly channels: readonly string[];
  subscribe(channel: string): void;
  unsubscribe(channel: string): void;
  publish(channel: string, message: unknown): void;
  /** Sends any other frame, for the server's receivers. */
  send(frame: unknown): void;
  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(type: K, listener: (value: Events[K]) => void): () => void;
  /** Closes the connection for good. */
  close(): void;
}

/** Connects to `url` (`/pubsub` on this page's host by default; ws/wss follows the page). */
export function connect(url?: string, options?: ClientOptions): PubsubClient;
