// Wiring only: a source, the protocol modules and the sinks, behind one HTTP server.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Express } from 'express';
import type { SchedulerLike } from 'rxjs';
import type { Config } from './core/config.js';
import { errorHandler, notFound } from './transports/http/errorHandlers.js';
import { silentLogger } from './core/logger.js';
import type { Logger } from './core/logger.js';
import type { PubSubSource } from './core/message.js';
import { adminRouter } from './ops/admin.js';
import { closeServer } from './transports/http/closeServer.js';
import { frontDoor } from './transports/http/frontDoor.js';
import { StreamRoutes } from './transports/sse/StreamRoutes.js';
import { healthRouter } from './ops/health.js';
import type { Readiness } from './ops/health.js';
import { startOperations } from './ops/operations.js';
import type { Operations } from './ops/operations.js';
import { EMOJITRACK_PREFIX, emojitrackStreams, scoreRollups } from './protocols/emojitrack/feeds.js';
import type { ClockCounts } from './protocols/emojitrack/feeds.js';
import { emojitrackCleanup } from './protocols/emojitrack/cleanup.js';
import { scoresApi } from './protocols/emojitrack/scoresApi.js';
import type { ScoreStore } from './protocols/emojitrack/scoresApi.js';
import { SseHub } from './fanout/Hub.js';
import { sseRetry } from './transports/sse/sseEncode.js';
import { CountedSource } from './sources/CountedSource.js';
import { RedisPubSub } from './sources/RedisPubSub.js';

export interface StreamerDeps {
  readonly config: Config;
  readonly source: PubSubSource;
  /**
   * Adds the application's own streams and routes: called with the express app,
   * the SSE hub, the stream table and the source, after the built-in routes and
   * before the 404 handler. Streams added to `streams` are answered on the bare
   * socket (the least memory per client); `app` routes that call `hub.open` work too.
   */
  readonly extend?: (parts: {
    app: Express;
    hub: SseHub;
    source: PubSubSource;
    streams: StreamRoutes;
  }) => void;
  readonly logger?: Logger;
  readonly scheduler?: SchedulerLike;
  /** A Redis command connection for the `emojitrack_score` snapshot (optional). */
  readonly scoreStore?: ScoreStore;
  /** Count score updates for /api/scores from the start, not only while /eps is watched. */
  readonly keepScores?: boolean;
}

/** The live page; `../public` from both src/ and dist/. */
const PUBLIC_DIR = fileURLToPath(new URL('../public', import.meta.url));

export interface Streamer {
  readonly app: Express;
  readonly server: Server;
  readonly hub: SseHub;
  readonly startedAt: number;
  /** Listens on the configured port (0 picks a free one). */
  listen(): Promise<AddressInfo>;
  /** The statsd and status hash sinks, when configured. */
  readonly operations: Operations;
  /** What /readyz answers: Redis ready and not shutting down. */
  readiness(): Readiness;
  /**
   * Stops being ready, tells every SSE client to reconnect (a retry line) and
   * ends its stream, closes the server (bounded), then flushes the operational
   * sinks. The source is the caller's to close.
   */
  close(): Promise<void>;
}

export function createStreamer(deps: StreamerDeps): Streamer {
  const { config } = deps;
  // Counted once per message for the "messages in" metric.
  const source = new CountedSource(deps.source);
  const redis = deps.source instanceof RedisPubSub ? deps.source : undefined;
  const logger = deps.logger ?? silentLogger;
  const startedAt = Date.now();
  const hub = new SseHub({
    keepaliveMs: config.keepaliveMs,
    maxBufferBytes: config.sseMaxBufferBytes,
    slowClientTimeoutMs: config.slowClientTimeoutMs,
    corsOrigin: config.corsOrigin,
    verbose: config.verbose,
    logger,
  });

  let stopping = false;
  let detailRoutes = 0;
  function readiness(): Readiness {
    if (stopping) return { ready: false, reason: 'shutting down' };
    const state = redis?.state$.value;
    if (state !== undefined && state !== 'ready') return { ready: false, reason: `redis ${state}` };
    return { ready: true };
  }

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', config.trustProxy);
  app.use((req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', config.corsOrigin);
    if (req.method !== 'OPTIONS') return next();
    res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Last-Event-ID, Cache-Control');
    res.setHeader('Access-Control-Max-Age', '86400');
    res.status(204).end();
  });
  // One rollup of the score channel feeds both /subscribe/eps and the score board.
  const epsClock: ClockCounts = { ticks: 0, missed: 0 };
  const rollups = scoreRollups(source, config.epsIntervalMs, deps.scheduler, epsClock);
  const streams = new StreamRoutes();
  streams.add(
    EMOJITRACK_PREFIX,
    emojitrackStreams({
      source,
      hub,
      rollups,
      epsIntervalMs: config.epsIntervalMs,
      detailIdleMs: config.detailIdleMs,
      enableRawStream: config.enableRawStream,
      enableKioskInteractionStream: config.enableKioskInteractionStream,
      ...(config.sseForceRefresh
        ? {
            forceRefresh: {
              retryMs: config.sseRetryMs,
              detailRetryMs: config.sseDetailRetryMs,
              maxAgeMs: config.sseMaxAgeMs,
              detailMaxAgeMs: config.sseDetailMaxAgeMs,
            },
          }
        : {}),
      onDetailRoutes: (live) => (detailRoutes = live),
      ...(deps.scheduler ? { scheduler: deps.scheduler } : {}),
    }),
  );
  app.use(streams.handler(hub));
  app.use(emojitrackCleanup(hub));
  app.use(healthRouter(readiness));
  const status = {
    hub,
    node: config.nodeName,
    startedAt,
    messagesIn: () => source.received,
    epsClock,
    readiness,
  };
  app.use(adminRouter(status));
  const operations = startOperations({
    ...status,
    config,
    logger,
    totals: () => ({
      'stream.messages.in': source.received,
      'redis.reconnects': redis?.reconnects ?? 0,
      'stream.eps.ticks': epsClock.ticks,
      'stream.eps.ticks_missed': epsClock.missed,
    }),
    gauges: () => ({ 'stream.detail.routes': detailRoutes }),
  });
  const scores = scoresApi({
    source,
    epsIntervalMs: config.epsIntervalMs,
    store: deps.scoreStore,
    keepScores: deps.keepScores,
    rollups,
    logger,
    ...(deps.scheduler ? { scheduler: deps.scheduler } : {}),
  });
  app.use(scores.router);
  app.use(express.static(PUBLIC_DIR));
  deps.extend?.({ app, hub, source, streams });
  app.use(notFound);
  app.use(errorHandler(logger));

  const server = createServer(app);
  // Streams are answered on their sockets, everything else by express.
  const door = frontDoor(server, streams.frontDoor(hub, config.trustProxy));
  return {
    app,
    server,
    hub,
    startedAt,
    operations,
    readiness,
    listen: () =>
      new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        hub.close(sseRetry(config.shutdownRetryMs));
        door.destroyWaiting();
        scores.close();
        void closeServer(server, Math.min(5_000, config.shutdownTimeoutMs / 2), () =>
          hub.destroyAll(),
        )
          .then(() => operations.close())
          .finally(resolve);
      }),
  };
}
