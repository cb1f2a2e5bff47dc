// Wiring only: the shared parts (source, hub, transports, stream table,
// metrics), the protocol modules started on them, and the operational sinks,
// behind one HTTP server. The protocols come chosen and configured: the server
// imports only those PROTOCOLS names (protocols/index.ts), createStreamer()
// picks among modules already loaded (app.ts).
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { asyncScheduler } from 'rxjs';
import type { Logger } from './core/logger.js';
import type { Publisher, PubSubSource } from './core/message.js';
import { MetricsRegistry } from './core/metrics.js';
import type { Readiness } from './core/readiness.js';
import { Hub } from './fanout/Hub.js';
import { adminRouter } from './ops/admin.js';
import { healthRouter } from './ops/health.js';
import { startOperations } from './ops/operations.js';
import { prometheusRouter } from './ops/prometheus.js';
import { publishApi } from './ops/publishApi.js';
import { startProtocols } from './protocols/startProtocols.js';
import type { SelectedProtocol } from './protocols/startProtocols.js';
import { CountedSource } from './sources/CountedSource.js';
import { historyFor } from './sources/historyFor.js';
import { shardedChannels } from './sources/redisClient.js';
import type { Streamer, StreamerDeps } from './Streamer.js';
import { closeServer } from './transports/http/closeServer.js';
import { createTransports } from './transports/createTransports.js';
import { corsMiddleware } from './transports/http/cors.js';
import { errorHandler, notFound } from './transports/http/errorHandlers.js';
import { frontDoor } from './transports/http/frontDoor.js';
import { listen } from './transports/http/listen.js';

/** The live page; `../public` from both src/ and dist/. */
const PUBLIC_DIR = fileURLToPath(new URL('../public', import.meta.url));

export interface WiringDeps extends Omit<StreamerDeps, 'protocols' | 'logger'> {
  /** The protocol modules to start, in order, each with its configuration. */
  readonly protocols: readonly SelectedProtocol[];
  /** Chosen by the caller: the service's own, or createStreamer()'s default. */
  readonly logger: Logger;
}

export function wireStreamer(deps: WiringDeps): Streamer {
  const { config, logger } = deps;
  const startedAt = Date.now();
  // Process metrics observe every GC; off unless asked for (see the README's Metrics).
  const metrics = new MetricsRegistry({ processMetrics: config.metricsProcess });
  // Counted once per message for the "messages in" metric.
  const source = new CountedSource(deps.source);
  source.instrument(metrics);
  const hub = new Hub({
    keepaliveMs: config.keepaliveMs,
    maxBufferBytes: config.sseMaxBufferBytes,
    slowClientTimeoutMs: config.slowClientTimeoutMs,
    maxWritesPerTurn: config.hubWritesPerTurn,
    maxConnections: config.maxConnections,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    maxTopics: config.maxTopics,
    verbose: config.verbose,
    logger,
    metrics,
  });
  const { sse, streams, ws, sessions } = createTransports(config, hub, logger);

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', config.trustProxy);
  app.use(corsMiddleware(config.corsOrigin, { except: ['/admin'] }));
  app.use(streams.handler(sse));
  const history =
    deps.history ??
    historyFor(deps.redis, deps.source, {
      size: config.historySize,
      ttlS: config.historyTtlS,
      sharded: shardedChannels(config.shardedChannels),
    });
  const shared = {
    source,
    history,
    publisher: deps.publisher ?? (isPublisher(deps.source) ? deps.source : undefined),
    redis: deps.redis,
    postgres: deps.postgres,
    demo: deps.demo ?? false,
    hub,
    streams,
    sse,
    sessions,
    metrics,
    scheduler: deps.scheduler ?? asyncScheduler,
    config,
  };
  const protocols = startProtocols(deps.protocols, shared, logger, app);
  app.use(sessions.router);

  let stopping = false;
  function readiness(): Readiness {
    if (stopping) return { ready: false, reason: 'shutting down' };
    const parts = [source.readiness(), deps.postgres?.readiness(), ...protocols.readiness()];
    return parts.find((r) => r && !r.ready) ?? { ready: true };
  }
  const status = {
    hub,
    node: config.nodeName,
    startedAt,
    metrics,
    readiness,
    protocols: () => protocols.status(),
    adminToken: config.adminToken,
    adminMaxConnections: config.adminMaxConnections,
  };
  app.use(healthRouter(readiness));
  app.use(adminRouter(status));
  app.use(prometheusRouter(metrics));
  app.use(
    publishApi({ history, apiKey: config.publishApiKey, maxBytes: config.wsMaxFrameBytes, logger }),
  );
  app.use(express.static(PUBLIC_DIR));
  app.use(notFound);
  app.use(errorHandler(logger));
  const operations = startOperations({ ...status, config, logger, registry: metrics });

  const server = createServer(app);
  ws.attach(server);
  // Streams are answered on their sockets, everything else by express.
  const door = frontDoor(server, {
    ...streams.frontDoor(sse, config.trustProxy),
    onError: (error) => logger.error('resolving a stream failed', { error: String(error) }),
  });
  return {
    app,
    server,
    hub,
    metrics,
    startedAt,
    protocols: protocols.handles,
    operations,
    readiness,
    listen: () =>
      listen(server, { port: config.port, host: config.host, backlog: config.listenBacklog }),
    close: async () => {
      stopping = true;
      ws.close();
      hub.close();
      door.destroyWaiting();
      await protocols.close();
      await closeServer(server, Math.min(5_000, config.shutdownTimeoutMs / 2), () =>
        hub.destroyAll(),
      );
      await operations.close();
      metrics.close();
    },
  };
}

function isPublisher(source: PubSubSource): source is PubSubSource & Publisher {
  return typeof (source as Partial<Publisher>).publish === 'function';
}
