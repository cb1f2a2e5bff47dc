// The pub/sub protocol's environment variables: where it is served, how its
// channels are named in Redis, and what one client may hold.
import { envSchema, int, text, urlPath } from '../../core/env.js';
import type { StandardSchemaV1 } from '../../core/env.js';

const prefix = text()
  .check(/^[A-Za-z0-9_.:/-]{0,64}$/, 'up to 64 letters, digits and _ . : / -')
  .or('pubsub:');

/**
 * `*`, or channel names separated by commas (each as a pub/sub channel name);
 * none by default, so a database's notifications reach clients only by name.
 */
const pgChannels = text()
  .check(
    /^(\*|[A-Za-z0-9_.:@/-]{1,63}(\s*,\s*[A-Za-z0-9_.:@/-]{1,63})*)$/,
    '* or channel names separated by commas (1-63 letters, digits and _ . : @ / - each, as Postgres takes them)',
  )
  .map((v): '*' | readonly string[] => (v === '*' ? '*' : Object.freeze(v.split(/\s*,\s*/))))
  .or(Object.freeze([]));

export const pubsubSchema = envSchema(
  {
    PUBSUB_PATH: urlPath('/pubsub'),
    PUBSUB_REDIS_PREFIX: prefix,
    PUBSUB_MAX_CHANNELS: int(256, 1, 100_000),
    PUBSUB_MAX_TOPICS: int(25_000, 1, 100_000_000),
    PUBSUB_PUBLISH_RATE: int(100, 1, 1_000_000),
    PUBSUB_PUBLISH_BYTES_PER_S: int(1024 * 1024, 1024, 1024 * 1024 * 1024),
    PUBSUB_PUBLISH_IN_FLIGHT: int(16, 1, 100_000),
    PUBSUB_SUBSCRIBE_TIMEOUT_MS: int(5_000, 100, 60_000),
    PUBSUB_AUTH_TIMEOUT_MS: int(10_000, 10, 120_000),
    PG_CHANNELS: pgChannels,
    PG_MAX_CHANNELS: int(1_000, 1, 100_000),
  },
  (e) =>
    Object.freeze({
      /** The plain WebSocket endpoint. */
      path: e.PUBSUB_PATH,
      /** Channel `C` is the Redis channel `<prefix>C`, for outside publishers too. */
      redisPrefix: e.PUBSUB_REDIS_PREFIX,
      /** Channels one client may be subscribed to at once. */
      maxChannels: e.PUBSUB_MAX_CHANNELS,
      /** Channels with a subscriber at most on this instance (its share of MAX_TOPICS). */
      maxTopics: e.PUBSUB_MAX_TOPICS,
      /** Publishes a second one client may make. */
      publishRate: e.PUBSUB_PUBLISH_RATE,
      /**
       * Bytes a second of publishes from one client address, all its clients
       * together: what anonymous clients can make Redis send this server's
       * subscriber stays well under Redis's output-buffer limit for it.
       */
      publishBytesPerS: e.PUBSUB_PUBLISH_BYTES_PER_S,
      /** Publishes of one client sent to the bus and not answered yet, at most. */
      publishInFlight: e.PUBSUB_PUBLISH_IN_FLIGHT,
      /** How long a subscription may take to become live before it is refused. */
      subscribeTimeoutMs: e.PUBSUB_SUBSCRIBE_TIMEOUT_MS,
      /** How long an authenticator may take before its silence denies. */
      authTimeoutMs: e.PUBSUB_AUTH_TIMEOUT_MS,
      /**
       * With DATABASE_URL: the Postgres channels whose NOTIFYs reach the pub/sub
       * channel of the same name, each LISTENed while it has subscribers; `*`: any.
       */
      pgChannels: e.PG_CHANNELS,
      /** With `PG_CHANNELS=*`: Postgres channels LISTENed at once at most, for all clients. */
      pgMaxChannels: e.PG_MAX_CHANNELS,
    }),
);

export type PubsubConfig = StandardSchemaV1.InferOutput<typeof pubsubSchema>;
