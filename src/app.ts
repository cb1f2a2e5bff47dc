// Wiring only: the shared parts (source, hub, SSE transport, stream table,
// metrics), the protocol modules started on them, and the operational sinks,
// behind one HTTP server.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import { asyncScheduler } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import type { Config } from './core/config.js';
import { StreamerError } from './core/errors.js';
import { silentLogger } from './core/logger.js';
import type { Logger } from './core/logger.js';
import type { Publisher, PubSubSource } from './core/message.js';
import { MetricsRegistry } from './core/metrics.js';
import { protocolConfig } from './protocols/protocol.js';
import type { Readiness } from './core/readiness.js';
import type { ProtocolHandle, ProtocolModule } from './protocols/protocol.js';
import { Hub } from './fanout/Hub.js';
import { adminRouter } from './ops/admin.js';
import { healthRouter } from './ops/health.js';
import { startOperations } from './ops/operations.js';
import type { Operations } from './ops/operations.js';
import { prometheusRouter } from './ops/prometheus.js';
import { builtInProtocols } from './protocols/index.js';
import { CountedSource } from './sources/CountedSource.js';
import type { PostgresNotify } from './sources/PostgresNotify.js';
import { closeServer } from './transports/http/closeServer.js';
import { corsHeaders, corsMiddleware } from './transports/http/cors.js';
import { errorHandler, notFound } from './transports/http/errorHandlers.js';
import { frontDoor } from './transports/http/frontDoor.js';
import { SseTransport } from './transports/sse/SseTransport.js';
import { StreamRoutes } from './transports/sse/StreamRoutes.js';
import { sseRetry } from './transports/sse/sseEncode.js';
import { SessionServer } from './transports/SessionServer.js';
import { WsTransport } from './transports/ws/WsTransport.js';

export interface StreamerDeps {
  readonly config: Config;
  readonly source: PubSubSource;
  /** The protocol modules to offer (`PROTOCOLS` picks among them); the built-in ones by default. */
  readonly protocols?: readonly ProtocolModule[];
  /** Publishes to the source's bus; the source itself when it can (the embedded bus). */
  readonly publisher?: Publisher;
  /** A Redis command connection, for protocols that read or write Redis keys. */
  readonly redis?: Redis;
  /** Postgres LISTEN/NOTIFY, for protocols with database monitors. */
  readonly postgres?: PostgresNotify;
  /** On the embedded bus: protocols feed it their demo traffic. */
  readonly demo?: boolean;
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

/** The live page; `../public` from both src/ and dist/. */
const PUBLIC_DIR = fileURLToPath(new URL('../public', import.meta.url));

/** The modules `PROTOCOLS` names, each with its configuration parsed; a StreamerError for a bad one. */
function selectProtocols(
  config: Config,
  offered: readonly ProtocolModule[],
): { module: ProtocolModule; config: unknown }[] {
  const byName = new Map(offered.map((m) => [m.name, m]));
  const names = config.protocols ?? [...byName.keys()];
  return names.map((name) => {
    const module = byName.get(name);
    if (!module) {
      throw new StreamerError(
        'RXS_ERR_CONFIG',
        `PROTOCOLS=${JSON.stringify(config.protocols?.join(','))} is not valid: expected a comma-separated list of ${[...byName.keys()].join(', ')}`,
        500,
      );
    }
    return { module, config: protocolConfig(module, config.env) };
  });
}

export function createStreamer(deps: StreamerDeps): Streamer {
  const { config } = deps;
  const selected = selectProtocols(config, deps.protocols ?? builtInProtocols());
  const logger = deps.logger ?? silentLogger;
  const scheduler = deps.scheduler ?? asyncScheduler;
  const startedAt = Date.now();
  // Process metrics observe every GC; off unless asked for (see the README's Metrics).
  const metrics = new MetricsRegistry({ processMetrics: config.metricsProcess });
  // Counted once per message for the "messages in" metric.
  const source = new CountedSource(deps.source);
  source.instrument(metrics);
  const publisher = deps.publisher ?? (isPublisher(deps.source) ? deps.source : undefined);
  const hub = new Hub({
    keepaliveMs: config.keepaliveMs,
    maxBufferBytes: config.sseMaxBufferBytes,
    slowClientTimeoutMs: config.slowClientTimeoutMs,
    maxConnections: config.maxConnections,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    maxTopics: config.maxTopics,
    verbose: config.verbose,
    logger,
    metrics,
  });
  const sse = new SseTransport({
    hub,
    headers: corsHeaders(config.corsOrigin),
    farewell: sseRetry(config.shutdownRetryMs),
  });
  const streams = new StreamRoutes();
  const ws = new WsTransport({
    hub,
    maxFrameBytes: config.wsMaxFrameBytes,
    pingMs: config.wsPingMs,
    trustProxy: config.trustProxy,
    allowedOrigins: config.allowedOrigins,
    logger,
  });
  const sessions = new SessionServer({
    hub,
    ws,
    maxFrameBytes: config.wsMaxFrameBytes,
    trustProxy: config.trustProxy,
    logger,
  });

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', config.trustProxy);
  app.use(corsMiddleware(config.corsOrigin, { except: ['/admin'] }));
  app.use(streams.handler(sse));

  const protocols = new Map<string, ProtocolHandle>();
  for (const { module, config: own } of selected) {
    const router = Router();
    protocols.set(
      module.name,
      module.start(
        {
          source,
          publisher,
          redis: deps.redis,
          postgres: deps.postgres,
          demo: deps.demo ?? false,
          hub,
          streams,
          sse,
          sessions,
          router,
          metrics,
          logger: logger.child({ protocol: module.name }),
          scheduler,
          config,
        },
        own,
      ),
    );
    app.use(router);
  }
  app.use(sessions.router);

  let stopping = false;
  function readiness(): Readiness {
    if (stopping) return { ready: false, reason: 'shutting down' };
    const parts = [
      source.readiness(),
      deps.postgres?.readiness(),
      ...[...protocols.values()].map((p) => p.ready?.()),
    ];
    return parts.find((r) => r && !r.ready) ?? { ready: true };
  }
  const status = {
    hub,
    node: config.nodeName,
    startedAt,
    metrics,
    readiness,
    protocols: () =>
      Object.fromEntries([...protocols].map(([name, handle]) => [name, handle.status?.() ?? {}])),
    adminToken: config.adminToken,
    adminMaxConnections: config.adminMaxConnections,
  };
  app.use(healthRouter(readiness));
  app.use(adminRouter(status));
  app.use(prometheusRouter(metrics));
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
    protocols,
    operations,
    readiness,
    listen: () =>
      new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        server.listen(
          { port: config.port, host: config.host, backlog: config.listenBacklog },
          () => {
            server.off('error', reject);
            resolve(server.address() as AddressInfo);
          },
        );
      }),
    close: async () => {
      stopping = true;
      ws.close();
      hub.close();
      door.destroyWaiting();
      await Promise.all(
        [...protocols].map(async ([name, handle]) => {
          try {
            await handle.close?.();
          } catch (err) {
            logger.error('closing a protocol failed', { protocol: name, error: String(err) });
          }
        }),
      );
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
