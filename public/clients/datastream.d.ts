// Types of /clients/datastream.js, rx-streamer's site stream client for browsers.

import type { BackoffOptions, ConnectionState } from './reconnecting.js';

export type { ConnectionState } from './reconnecting.js';

/** `{"site","topic","data","id"}`: one message of the site followed. */
export interface SiteMessage<T = unknown> {
  readonly site: string;
  readonly topic: string;
  readonly data: T;
  /** Its queue entry's id, `<ms>-<seq>`: where a reconnect resumes from. */
  readonly id: string;
}

/** `{"controlMessage":true,"content":…}`: `Subscribed to site <site>`, and refusals with `error`. */
export interface ControlMessage {
  readonly content: string;
  readonly error: boolean;
  /**
   * On a resume: `false` on the control that says why not all that was missed
   * can be given, `true` on the subscription's reply when it all is.
   */
  readonly recovered?: boolean;
}

/** After every reconnect, once the site is followed again. */
export interface Recovered {
  /**
   * True: every message missed while away comes next, in order, before live
   * ones. False: some are lost (too many, too old, or no message to resume
   * from): the app should load the site's current state again.
   */
  readonly recovered: boolean;
}

export interface DatastreamOptions extends BackoffOptions {
  /** The site to follow: 1 to 64 letters, digits and `_ . -`. */
  readonly site: string;
  /** Only these topics (default: every topic of the site). */
  readonly topics?: readonly string[] | null;
  /** Resume after this message's id (one kept from an earlier page, say) on the first connect too. */
  readonly lastEventId?: string;
}

export interface Events {
  message: SiteMessage;
  control: ControlMessage;
  /** Frames that are neither. */
  frame: unknown;
  state: ConnectionState;
  recovered: Recovered;
}

export interface DatastreamClient {
  readonly state: ConnectionState;
  /** The site it follows (the last one switched to), followed again after every reconnect. */
  readonly site: string;
  /** Its topic filter; undefined for every topic. */
  readonly topics: readonly string[] | undefined;
  /** The id of the last message of its site, sent as `lastEventId` on the next reconnect. */
  readonly lastEventId: string | undefined;
  /**
   * Follows another site; the server answers `Subscribed to site <site>`. `topics`
   * absent keeps the filter, null is every topic, a list is only those. A
   * reconnect before the first message of the new site resumes nothing.
   */
  switchSite(site: string, topics?: readonly string[] | null): void;
  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(type: K, listener: (value: Events[K]) => void): () => void;
  /** Closes the connection for good. */
  close(): void;
}

/**
 * Connects to `url` (`/datastream` on this page's host by default; ws/wss follows
 * the page) for `options.site`; throws a TypeError for a site, topics or
 * lastEventId the server refuses.
 */
export function connect(url: string | undefined, options: DatastreamOptions): DatastreamClient;
