// The rx-streamer toolkit: sources that make Observables, operators that
// compose them, sinks that deliver them, and the app that wires them.
export type { BusMessage, PubSubSource } from './core/message.js';
export { StreamerError } from './core/errors.js';
export type { ErrorCode } from './core/errors.js';
export { loadConfig } from './core/config.js';
export type { Config, Env } from './core/config.js';
export { createLogger, silentLogger } from './core/logger.js';
export type { Logger, LogLevel } from './core/logger.js';

export { MemoryBus } from './sources/MemoryBus.js';
export { RedisPubSub } from './sources/RedisPubSub.js';
export type { RedisConnectionState, RedisPubSubOptions } from './sources/RedisPubSub.js';
export {
  demoFeed,
  demoUse,
  demoTweet,
  DEMO_IDS,
  SCORE_CHANNEL,
  TWEET_CHANNEL_PREFIX,
} from './protocols/emojitrack/demoFeed.js';
export type { DemoFeedOptions, Publication } from './protocols/emojitrack/demoFeed.js';
export { globToRegExp } from './sources/globToRegExp.js';

export { rollupScores } from './operators/rollupScores.js';
export type { ScoreRollup } from './operators/rollupScores.js';
export { routeByNamespace } from './operators/routeByNamespace.js';
export { filterDetail, detailIdOf } from './operators/filterDetail.js';
export { shareWithGrace } from './operators/shareWithGrace.js';

export { SseHub } from './fanout/Hub.js';
export type {
  SseFrame,
  SseHubOptions,
  SseHubStats,
  SseOpenOptions,
  SseRequest,
} from './fanout/Hub.js';
export { SseConnection } from './transports/sse/SseConnection.js';
export type { SseConnectionInfo } from './transports/sse/SseConnection.js';
export { sseMessage, sseComment, sseRetry, rollupJson } from './transports/sse/sseEncode.js';
export type { SseFields } from './transports/sse/sseEncode.js';
export { ScoreBoard } from './protocols/emojitrack/ScoreBoard.js';

export {
  EMOJITRACK_PREFIX,
  emojitrackFeeds,
  emojitrackStreams,
  validateEmojiId,
} from './protocols/emojitrack/feeds.js';
export { StreamRoutes } from './transports/sse/StreamRoutes.js';
export type { StreamResolver } from './transports/sse/StreamRoutes.js';
export { frontDoor } from './transports/http/frontDoor.js';
export type { FrontDoorOptions } from './transports/http/frontDoor.js';
export type { RequestHead } from './transports/http/requestHead.js';
export { statusReport } from './ops/statusReport.js';
export type { StatusReport, ConnectionStatus } from './ops/statusReport.js';
export { createStreamer } from './app.js';
export type { Streamer, StreamerDeps } from './app.js';
