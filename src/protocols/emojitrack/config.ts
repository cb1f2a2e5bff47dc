// The emojitrack protocol's environment variables: its streams, the legacy
// forced refresh of the Ruby streamer, and the demo feeder's rate.
import { bool, envSchema, int, positive } from '../../core/env.js';
import type { StandardSchemaV1 } from '../../core/env.js';

export const emojitrackSchema = envSchema(
  {
    EPS_INTERVAL_MS: positive(1000 / 60, 60_000),
    ENABLE_RAW_STREAM: bool(true),
    DETAIL_IDLE_MS: int(60_000, 1, 86_400_000),
    DEMO_RATE: int(250, 0, 100_000),
    SSE_FORCE_REFRESH: bool(false),
    SSE_RETRY_MS: int(100, 0, 3_600_000),
    SSE_DETAIL_RETRY_MS: int(500, 0, 3_600_000),
    SSE_MAX_AGE_MS: int(300_000, 1, 86_400_000),
    SSE_DETAIL_MAX_AGE_MS: int(300_000, 1, 86_400_000),
    ENABLE_KIOSK_INTERACTION_STREAM: bool(false),
    CLEANUP_BY_IP: bool(false),
  },
  (e) =>
    Object.freeze({
      epsIntervalMs: e.EPS_INTERVAL_MS,
      enableRawStream: e.ENABLE_RAW_STREAM,
      /** How long a detail route lives without traffic before its group ends. */
      detailIdleMs: e.DETAIL_IDLE_MS,
      /** Emoji uses per second of the demo feeder (on the embedded bus). */
      demoRate: e.DEMO_RATE,
      /** The Ruby streamer's connection management: retry lines, cleanup header, maximum age. */
      sseForceRefresh: e.SSE_FORCE_REFRESH,
      sseRetryMs: e.SSE_RETRY_MS,
      sseDetailRetryMs: e.SSE_DETAIL_RETRY_MS,
      sseMaxAgeMs: e.SSE_MAX_AGE_MS,
      sseDetailMaxAgeMs: e.SSE_DETAIL_MAX_AGE_MS,
      enableKioskInteractionStream: e.ENABLE_KIOSK_INTERACTION_STREAM,
      /** Cleanup without a token closes the client IP's streams, as the Ruby streamer's did. */
      cleanupByIp: e.CLEANUP_BY_IP,
    }),
);

export type EmojitrackConfig = StandardSchemaV1.InferOutput<typeof emojitrackSchema>;
