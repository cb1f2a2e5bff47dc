// Types of /clients/pubsub.js, rx-streamer's pub/sub client for browsers.

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ChannelMessage<T = unknown> {
  readonly channel: string;
  readonly message: T;
}

/** `{"controlMessage":true,"content":…}`: acknowledgements, and refusals with `error`. */
export interface ControlMessage {
  readonly content: string;
  readonly error: boolean;
}

export interface ClientOptions {
  /** The first reconnect waits up to this long (default 500 ms)… */
  readonly minDelayMs?: number;
  /** …doubling up to this (default 30 s); each delay is picked at random below it. */
  readonly maxDelayMs?: number;
  /** Frames kept while disconnected, oldest dropped first (default 1000). */
  readonly maxQueued?: number;
}

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
