// The rx-streamer toolkit: sources that make Observables, operators that
// compose them, sinks that deliver them, and the app that wires them.
export type { BusMessage, Publication, Publisher, PubSubSource } from './core/message.js';
export { StreamerError } from './core/errors.js';
export type { ErrorCode } from './core/errors.js';
export { loadConfig } from './core/config.js';
export type { Config, Env } from './core/config.js';
export { createLogger, silentLogger } from './core/logger.js';
export type { Logger, LogLevel } from './core/logger.js';

export { MemoryBus } from './sources/MemoryBus.js';
export { RedisPubSub } from './sources/RedisPubSub.js';
export { PostgresNotify, quoteIdentifier } from './sources/PostgresNotify.js';
export type { PostgresNotifyOptions, PostgresConnectionState } from './sources/PostgresNotify.js';
export type { RedisConnectionState, RedisPubSubOptions } from './sources/RedisPubSub.js';
export {
  demoFeed,
  demoUse,
  demoTweet,
  DEMO_IDS,
  SCORE_CHANNEL,
  TWEET_CHANNEL_PREFIX,
} from './protocols/emojitrack/demoFeed.js';
export type { DemoFeedOptions } from './protocols/emojitrack/demoFeed.js';
export { globMatcher } from './sources/globMatcher.js';
export { RedisHistory } from './sources/RedisHistory.js';
export { MemoryHistory } from './sources/MemoryHistory.js';
export { historyKeys } from './sources/channelHistory.js';
export { publish, DEFAULT_HISTORY } from './sources/publishWithHistory.js';
export type { PublishOptions } from './sources/publishWithHistory.js';
export { shardedChannels } from './sources/redisClient.js';
export type { RedisClient } from './sources/redisClient.js';
export { busMessage } from './core/message.js';
export { tagged, untagged } from './core/position.js';
export type {
  ChannelHistory,
  HistoryOptions,
  HistoryEntry,
  Position,
  Recovery,
} from './sources/channelHistory.js';
export type { GlobMatcher } from './sources/globMatcher.js';
export { RedisStreamQueue } from './sources/RedisStreamQueue.js';
export type { RedisStreamQueueOptions } from './sources/RedisStreamQueue.js';
export { MemoryQueue } from './sources/MemoryQueue.js';
export type { MemoryQueueOptions } from './sources/MemoryQueue.js';
export { entryTime } from './sources/QueueStore.js';
export type { QueueEntry, QueueLag, QueueStore } from './sources/QueueStore.js';
export { queueEntries } from './sources/queueEntries.js';
export type { QueueEntriesOptions } from './sources/queueEntries.js';

export { rollupScores } from './operators/rollupScores.js';
export type { ScoreRollup } from './operators/rollupScores.js';
export { routeByNamespace } from './operators/routeByNamespace.js';
export { filterDetail, detailIdOf } from './operators/filterDetail.js';
export { shareWithGrace } from './operators/shareWithGrace.js';
export { readLatest } from './operators/readLatest.js';
export { diffSets } from './operators/diffSets.js';
export type { SetDiff } from './operators/diffSets.js';
export { mergeKeyed } from './operators/mergeKeyed.js';
export { pollEntries } from './operators/pollEntries.js';
export type { PollOptions } from './operators/pollEntries.js';
export { routeEntries } from './operators/routeEntries.js';
export type { Parsed, Routed } from './operators/routeEntries.js';
export { acknowledge } from './operators/acknowledge.js';
export type { AckOptions, AckResult } from './operators/acknowledge.js';

export { Hub } from './fanout/Hub.js';
export type { AttachOptions, FamilyFeed, FamilySpec, HubOptions, HubStats } from './fanout/Hub.js';
export { Connection } from './fanout/Connection.js';
export type { ConnectionInfo } from './fanout/Connection.js';
export type { Encoders, Framing } from './fanout/framing.js';
export { SseConnection } from './transports/sse/SseConnection.js';
export { SseTransport } from './transports/sse/SseTransport.js';
export type { SseStream, SseTransportOptions } from './transports/sse/SseTransport.js';
export { SSE_CHUNKED, SSE_PLAIN, httpChunk, numberedEvents } from './transports/sse/sseFraming.js';
export { sseMessage, sseComment, sseRetry, rollupJson } from './transports/sse/sseEncode.js';
export type { SseFields } from './transports/sse/sseEncode.js';
export type { StreamRequest } from './transports/http/StreamRequest.js';

export { defineProtocol, protocolConfig } from './protocols/protocol.js';
export type {
  ProtocolContext,
  ProtocolHandle,
  ProtocolModule,
  Readiness,
} from './protocols/protocol.js';
export { MetricsRegistry } from './core/metrics.js';
export type { Counter, Timing } from './core/metrics.js';
export {
  EnvField,
  bool,
  boolText,
  envSchema,
  int,
  list,
  oneOf,
  parseEnv,
  positive,
  text,
  url,
  urlPath,
} from './core/env.js';
export type { EnvFields, EnvSchema, EnvValues, StandardSchemaV1 } from './core/env.js';
export { builtInProtocols } from './protocols/builtInProtocols.js';
export {
  emojitrack,
  emojitrackProtocol,
  EMOJITRACK_PREFIX,
  validateEmojiId,
} from './protocols/emojitrack/index.js';
export type { EmojitrackConfig, EmojitrackOptions } from './protocols/emojitrack/index.js';
export { emojitrackFeeds } from './protocols/emojitrack/feeds.js';
export { ScoreBoard } from './protocols/emojitrack/ScoreBoard.js';
export {
  notifications,
  notificationsProtocol,
  MemoryChannelSets,
  channelSetKey,
  redisChannelSets,
  mintToken,
  verifyToken,
} from './protocols/notifications/index.js';
export type {
  ChannelSetStore,
  NotificationsConfig,
  NotificationsOptions,
  TokenCheck,
} from './protocols/notifications/index.js';
export { userSession } from './protocols/notifications/userSession.js';
export type { UserSessionOptions } from './protocols/notifications/userSession.js';
export type { StreamStatus } from './protocols/notifications/events.js';
export {
  pubsub,
  pubsubProtocol,
  PUBSUB_FAMILY,
  channelMessage,
  controlError,
  controlMessage,
  parseFrame,
  parseCookies,
} from './protocols/pubsub/index.js';
export type {
  PubsubConfig,
  PubsubHooks,
  PubsubClient,
  ClientRequest,
  Authenticator,
  AuthRequest,
  ChannelAuthenticator,
  ClientPublish,
  PushTrap,
  ClientHook,
  Receiver,
  ChannelMessage,
  Monitor,
} from './protocols/pubsub/index.js';
export {
  datastream,
  datastreamProtocol,
  DATASTREAM_FAMILY,
  DEMO_SITES,
  parseEntry,
  siteFrame,
  MemorySiteHistory,
  RedisSiteHistory,
} from './protocols/datastream/index.js';
export type {
  DatastreamConfig,
  DatastreamHooks,
  SiteClient,
  SiteHistory,
  SiteHistoryEntry,
  SiteRecovery,
} from './protocols/datastream/index.js';
export { authorizer } from './protocols/authorize.js';
export type { AuthorizeOptions } from './protocols/authorize.js';
export { WsTransport } from './transports/ws/WsTransport.js';
export type { WsTransportOptions } from './transports/ws/WsTransport.js';
export { WsConnection, WS_CLOSE } from './transports/ws/WsConnection.js';
export { SessionServer } from './transports/SessionServer.js';
export type {
  Session,
  SessionEndpoint,
  SessionHandler,
  SessionRequest,
  SessionTransports,
} from './core/session.js';
export { WS_TEXT, textFrameHeader } from './transports/ws/wsFraming.js';
export { StreamRoutes } from './transports/sse/StreamRoutes.js';
export type {
  StreamGuard,
  StreamResolver,
  StreamRouteOptions,
} from './transports/sse/StreamRoutes.js';
export { frontDoor } from './transports/http/frontDoor.js';
export type { FrontDoorOptions } from './transports/http/frontDoor.js';
export type { RequestHead } from './transports/http/requestHead.js';
export { statusReport } from './ops/statusReport.js';
export type { StatusReport, ConnectionStatus } from './ops/statusReport.js';
export { createStreamer } from './app.js';
export type { Streamer, StreamerDeps } from './Streamer.js';
