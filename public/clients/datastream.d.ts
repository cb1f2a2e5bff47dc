// Types of /clients/datastream.js, rx-streamer's site stream client for browsers.

import type { BackoffOptions, ConnectionState } from './reconnecting.js';

export type { ConnectionState } from './reconnecting.js';

/** `{"site","topic","data"}`: one message of the site followed. */
export interface SiteMessage<T = unknown> {
  readonly site: string;
  readonly topic: string;
  readonly data: T;
}

/** `{"controlMessage":true,"content":…}`: `Subscribed to site <site>`, and refusals with `error`. */
export interface ControlMessage {
  readonly content: string;
  readonly error: boolean;
}

export interface DatastreamOptions extends BackoffOptions {
  /** The site to follow: 1 to 64 letters, digits and `_ . -`. */
  readonly site: string;
  /** Only these topics (default: every topic of the site). */
  readonly topics?: readonly string[] | null;
}

export interface Events {
  message: SiteMessage;
  control: ControlMessage;
  /** Frames that are neither. */
  frame: unknown;
  state: ConnectionState;
}

export interface DatastreamClient {
  readonly state: ConnectionState;
  /** The site it follows (the last one switched to), followed again after every reconnect. */
  readonly site: string;
  /** Its topic filter; undefined for every topic. */
  readonly topics: readonly string[] | undefined;
  /**
   * Follows another site; the server answers `Subscribed to site <site>`. `topics`
   * absent keeps the filter, null is every topic, a list is only those.
   */
  switchSite(site: string, topics?: readonly string[] | null): void;
  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(type: K, listener: (value: Events[K]) => void): () => void;
  /** Closes the connection for good. */
  close(): void;
}

/**
 * Connects to `url` (`/datastream` on this page's host by default; ws/wss follows
 * the page) for `options.site`; throws a TypeError for a site or topics the server refuses.
 */
export function connect(url: string | undefined, options: DatastreamOptions): DatastreamClient;
