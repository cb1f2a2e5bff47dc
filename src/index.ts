// The rx-streamer toolkit: sources that make Observables, operators that
// compose them, sinks that deliver them, and the app that wires them.
export type { BusMessage, PubSubSource } from './message.js';
export { StreamerError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { loadConfig } from './config.js';
export type { Config, Env } from './config.js';
export { createLogger, silentLogger } from './logger.js';
export type { Logger, LogLevel } from './logger.js';

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
} from './sources/demoFeed.js';
export type { DemoFeedOptions, Publication } from './sources/demoFeed.js';
export { globToRegExp } from './sources/globToRegExp.js';

export { rollupScores } from './operators/rollupScores.js';
export type { ScoreRollup } from './operators/rollupScores.js';
export { routeByNamespace } from './operators/routeByNamespace.js';
export { filterDetail, detailIdOf } from './operators/filterDetail.js';
export { shareWithGrace } from './operators/shareWithGrace.js';

export { SseHub } from './sinks/SseHub.js';
export type {
  SseFrame,
  SseHubOptions,
  SseHubStats,
  SseOpenOptions,
  SseRequest,
} from './sinks/SseHub.js';
export { SseConnection } from './sinks/SseConnection.js';
export type { SseConnectionInfo } from './sinks/SseConnection.js';
export { sseMessage, sseComment, sseRetry, rollupJson } from './sinks/sseEncode.js';
export type { SseFields } from './sinks/sseEncode.js';
export { ScoreBoard } from './sinks/ScoreBoard.js';

export {
  EMOJITRACK_PREFIX,
  emojitrackFeeds,
  emojitrackStreams,
  validateEmojiId,
} from './protocols/emojitrack.js';
export { StreamRoutes } from './http/streamRoutes.js';
export type { StreamResolver } from './http/streamRoutes.js';
export { frontDoor } from './http/frontDoor.js';
export type { FrontDoorOptions } from './http/frontDoor.js';
export type { RequestHead } from './http/requestHead.js';
export { statusReport } from './statusReport.js';
export type { StatusReport, ConnectionStatus } from './statusReport.js';
export { createStreamer } from './app.js';
export type { Streamer, StreamerDeps } from './app.js';
