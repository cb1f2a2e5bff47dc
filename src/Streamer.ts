// What createStreamer() takes and gives: the deployment's parts (configuration,
// the pub/sub source, Redis and Postgres connections, the protocols) and the
// running server's handles (HTTP server, hub, metrics, readiness, shutdown).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { RedisClient } from './sources/redisClient.js';
import type { SchedulerLike } from 'rxjs';
import type { Config } from './core/config.js';
import type { Logger } from './core/logger.js';
import type { Publisher, PubSubSource } from './core/message.js';
import type { MetricsRegistry } from './core/metrics.js';
import type { Readiness } from './core/readiness.js';
import type { Hub } from './fanout/Hub.js';
import type { Operations } from './ops/operations.js';
import type { ChannelHistory } from './sources/channelHistory.js';
import type { PostgresNotify } from './sources/PostgresNotify.js';
import type { ProtocolHandle, ProtocolModule } from './protocols/protocol.js';

export interface StreamerDeps {
  readonly config: Config;
  readonly source: PubSubSource;
  /** The protocol modules to offer (`PROTOCOLS` picks among them); the built-in ones by default. */
  readonly protocols?: readonly ProtocolModule[];
  /** Publishes to the source's bus; the source itself when it can (the embedded bus). */
  readonly publisher?: Publisher;
  /** A Redis command connection, for protocols that read or write Redis keys. */
  readonly redis?: RedisClient;
  /** Postgres LISTEN/NOTIFY, for protocols with database monitors. */
  readonly postgres?: PostgresNotify;
  /**
   * Channel history (publishing with positions, recovery); by default in Redis
   * on the command connection, or in the process on the embedded bus.
   */
  readonly history?: ChannelHistory;
  /** On the embedded bus: protocols feed it their demo traffic. */
  readonly demo?: boolean;
  /**
   * Where the server logs. By default JSON lines on stdout at `config.logLevel`
   * (`LOG_LEVEL`, info unless set); `silentLogger` for none.
   */
  readonly logger?: Logger;
  readonly scheduler?: SchedulerLike;
}

export interface Streamer {
  readonly app: Express;
  readonly server: Server;
  readonly hub: Hub;
  readonly metrics: MetricsRegistry;
  readonly startedAt: number;
  /** The started protocols, by name. */
  readonly protocols: ReadonlyMap<string, ProtocolHandle>;
  /** Listens on the configured port (0 picks a free one). */
  listen(): Promise<AddressInfo>;
  /** The statsd and status hash sinks, when configured. */
  readonly operations: Operations;
  /** What /readyz answers: the source and every protocol ready, and not shutting down. */
  readiness(): Readiness;
  /**
   * Stops being ready, tells every client to reconnect (an SSE retry line) and
   * ends its stream, closes the protocols and the server (bounded), then flushes
   * the operational sinks. The source is the caller's to close.
   */
  close(): Promise<void>;
}
