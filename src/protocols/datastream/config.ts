// The site streams' environment variables: where they are served, the queue
// (its key, this instance's group, its bounds and timings) and the ingest key.
import { envSchema, int, text, urlPath } from '../../core/env.js';
import type { StandardSchemaV1 } from '../../core/env.js';

const streamKey = text()
  .check(/^[A-Za-z0-9_.:/-]{1,200}$/, 'up to 200 letters, digits and _ . : / -')
  .or('datastream:incoming');

const group = text().check(
  /^[A-Za-z0-9_.:@/-]{1,200}$/,
  'up to 200 letters, digits and _ . : @ / -',
);

const apiKey = text()
  .check((v) => v.length >= 16, 'at least 16 characters')
  .check(/^[\x21-\x7e]+$/, 'printable ASCII with no spaces');

export const datastreamSchema = envSchema(
  {
    DATASTREAM_PATH: urlPath('/datastream'),
    DATASTREAM_KEY: streamKey,
    DATASTREAM_GROUP: group,
    DATASTREAM_API_KEY: apiKey,
    DATASTREAM_MAX_BYTES: int(65_536, 256, 16 * 1024 * 1024),
    DATASTREAM_MAXLEN: int(100_000, 100, 100_000_000),
    DATASTREAM_DEAD_MAXLEN: int(10_000, 10, 10_000_000),
    DATASTREAM_MEMORY_BYTES: int(64 * 1024 * 1024, 1024 * 1024, 64 * 1024 * 1024 * 1024),
    DATASTREAM_MAX_DELIVERIES: int(5, 1, 1_000),
    DATASTREAM_CLAIM_IDLE_MS: int(30_000, 10, 86_400_000),
    DATASTREAM_CLAIM_EVERY_MS: int(5_000, 10, 3_600_000),
    DATASTREAM_BLOCK_MS: int(2_000, 10, 60_000),
    DATASTREAM_RESUME_DELAY_MS: int(2_000, 0, 600_000),
    DATASTREAM_MAX_TOPICS: int(64, 1, 1_000),
    DATASTREAM_MAX_SITE_TOPICS: int(25_000, 1, 100_000_000),
    DATASTREAM_AUTH_TIMEOUT_MS: int(10_000, 10, 120_000),
  },
  (e) =>
    Object.freeze({
      /** The WebSocket endpoint; `POST <path>/messages` enqueues. */
      path: e.DATASTREAM_PATH,
      /** The Redis Stream producers XADD to; dead letters go to `<key>:dead`. */
      key: e.DATASTREAM_KEY,
      /** This instance's consumer group; unset: `rx-streamer:<instance name>`. */
      group: e.DATASTREAM_GROUP,
      /** When set, POST needs `Authorization: Bearer <key>`. */
      apiKey: e.DATASTREAM_API_KEY,
      /** The largest message (POST body, or an entry's fields together). */
      maxBytes: e.DATASTREAM_MAX_BYTES,
      /** The stream is trimmed to about this many entries. */
      maxLen: e.DATASTREAM_MAXLEN,
      deadMaxLen: e.DATASTREAM_DEAD_MAXLEN,
      /** Without Redis: the in-process queue keeps at most this many bytes of entries. */
      memoryBytes: e.DATASTREAM_MEMORY_BYTES,
      /** An entry handed out this many times without an acknowledgement goes to the dead letters. */
      maxDeliveries: e.DATASTREAM_MAX_DELIVERIES,
      /** An entry pending this long (its consumer died, or its delivery failed) is claimed again. */
      claimIdleMs: e.DATASTREAM_CLAIM_IDLE_MS,
      /** How often pending entries are looked for, and the stream trimmed. */
      claimEveryMs: e.DATASTREAM_CLAIM_EVERY_MS,
      /** How long one read waits for new entries. */
      blockMs: e.DATASTREAM_BLOCK_MS,
      /**
       * How long after a start the reading begins, so that the clients of the
       * previous run are back before what it left, and what came while it was
       * down, is delivered.
       */
      resumeDelayMs: e.DATASTREAM_RESUME_DELAY_MS,
      /** Topics one client may filter on. */
      maxTopics: e.DATASTREAM_MAX_TOPICS,
      /** Sites and site topics with a client at most on this instance (its share of MAX_TOPICS). */
      maxSiteTopics: e.DATASTREAM_MAX_SITE_TOPICS,
      authTimeoutMs: e.DATASTREAM_AUTH_TIMEOUT_MS,
    }),
);

export type DatastreamConfig = StandardSchemaV1.InferOutput<typeof datastreamSchema>;
