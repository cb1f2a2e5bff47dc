// The pub/sub protocol's environment variables: where it is served, how its
// channels are named in Redis, and what one client may hold.
import { z } from 'zod';
import { int, urlPath } from '../../core/env.js';

const prefix = z
  .string()
  .regex(/^[A-Za-z0-9_.:/-]{0,64}$/, {
    error: 'up to 64 letters, digits and _ . : / -',
  })
  .optional()
  .transform((v) => v ?? 'pubsub:');

/** `*`, or channel names separated by commas (each as a pub/sub channel name). */
const pgChannels = z
  .string()
  .trim()
  .regex(/^(\*|[A-Za-z0-9_.:@/-]{1,200}(\s*,\s*[A-Za-z0-9_.:@/-]{1,200})*)$/, {
    error: '* or channel names separated by commas (letters, digits and _ . : @ / -)',
  })
  .optional()
  .transform((v): '*' | readonly string[] =>
    v === undefined || v === '*' ? '*' : Object.freeze(v.split(/\s*,\s*/)),
  );

export const pubsubSchema = z
  .object({
    PUBSUB_PATH: urlPath('/pubsub'),
    PUBSUB_REDIS_PREFIX: prefix,
    PUBSUB_MAX_CHANNELS: int(256, 1, 100_000),
    PUBSUB_SUBSCRIBE_TIMEOUT_MS: int(5_000, 100, 60_000),
    PUBSUB_AUTH_TIMEOUT_MS: int(10_000, 10, 120_000),
    PG_CHANNELS: pgChannels,
  })
  .transform((e) =>
    Object.freeze({
      /** The plain WebSocket endpoint. */
      path: e.PUBSUB_PATH,
      /** Channel `C` is the Redis channel `<prefix>C`, for outside publishers too. */
      redisPrefix: e.PUBSUB_REDIS_PREFIX,
      /** Channels one client may be subscribed to at once. */
      maxChannels: e.PUBSUB_MAX_CHANNELS,
      /** How long a subscription may take to become live before it is refused. */
      subscribeTimeoutMs: e.PUBSUB_SUBSCRIBE_TIMEOUT_MS,
      /** How long an authenticator may take before its silence denies. */
      authTimeoutMs: e.PUBSUB_AUTH_TIMEOUT_MS,
      /**
       * With DATABASE_URL: the Postgres channels whose NOTIFYs reach the pub/sub
       * channel of the same name, each LISTENed while it has subscribers; `*`: any.
       */
      pgChannels: e.PG_CHANNELS,
    }),
  );

export type PubsubConfig = z.output<typeof pubsubSchema>;
