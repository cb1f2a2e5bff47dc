// What an application passes to datastreamProtocol(): who may follow which
// site (the authenticators of pub/sub, asked with the site as the channel), and
// optionally the queue and the site history themselves.
import type { Authenticator, ChannelAuthenticator } from '../authorize.js';
import type { ClientRequest } from '../pubsub/hooks.js';
import type { QueueStore } from '../../sources/QueueStore.js';
import type { SiteHistory } from '../../sources/SiteHistory.js';

/** One connected site client, as the hooks see it. */
export interface SiteClient {
  /** Unique in this process. */
  readonly id: string;
  readonly request: ClientRequest;
  /** The site it follows (or asked for, until allowed). */
  site(): string;
  /** The topics it is narrowed to; undefined: every topic. */
  topics(): readonly string[] | undefined;
  /** Sends this client alone a frame (any JSON value). */
  send(frame: unknown): void;
  close(code?: number, reason?: string): void;
}

export interface DatastreamHooks {
  /**
   * Asked, with `action: 'subscribe'` and the site as `channel`, whenever a
   * client connects for a site or switches to one; fail closed as in pub/sub.
   * An authenticator that reads only `client.request` serves both protocols.
   */
  readonly authenticators?: readonly ChannelAuthenticator<SiteClient>[];
  readonly defaultAuthenticator?: Authenticator<SiteClient>;
  /** The queue to read; by default the Redis Stream, or the in-process one without Redis. */
  readonly queue?: QueueStore;
  /**
   * Where the sites' recent frames are kept for clients that reconnect; by
   * default a Redis stream per site, or in the process without Redis.
   */
  readonly history?: SiteHistory;
}
