// Wiring only: a source, the protocol modules and the sinks, behind one HTTP server.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Express } from 'express';
import type { SchedulerLike } from 'rxjs';
import type { Config } from './config.js';
import { errorHandler, notFound } from './http/errorHandlers.js';
import { silentLogger } from './logger.js';
import type { Logger } from './logger.js';
import type { PubSubSource } from './message.js';
import { emojitrackRouter } from './protocols/emojitrack.js';
import { scoresApi } from './protocols/scoresApi.js';
import type { ScoreStore } from './protocols/scoresApi.js';
import { SseHub } from './sinks/SseHub.js';
import { statusReport } from './statusReport.js';

export interface StreamerDeps {
  readonly config: Config;
  readonly source: PubSubSource;
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
  /** Ends every stream, then stops accepting connections. */
  close(): Promise<void>;
}

export function createStreamer(deps: StreamerDeps): Streamer {
  const { config, source } = deps;
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

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use((req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', config.corsOrigin);
    if (req.method !== 'OPTIONS') return next();
    res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Last-Event-ID, Cache-Control');
    res.setHeader('Access-Control-Max-Age', '86400');
    res.status(204).end();
  });
  app.use(
    emojitrackRouter({
      source,
      hub,
      epsIntervalMs: config.epsIntervalMs,
      detailIdleMs: config.detailIdleMs,
      enableRawStream: config.enableRawStream,
      ...(deps.scheduler ? { scheduler: deps.scheduler } : {}),
    }),
  );
  app.get('/admin/status.json', (_req, res) => {
    res.json(statusReport(hub, config.nodeName, startedAt));
  });
  const scores = scoresApi({
    source,
    epsIntervalMs: config.epsIntervalMs,
    store: deps.scoreStore,
    keepScores: deps.keepScores,
    logger,
    ...(deps.scheduler ? { scheduler: deps.scheduler } : {}),
  });
  app.use(scores.router);
  app.use(express.static(PUBLIC_DIR));
  app.use(notFound);
  app.use(errorHandler(logger));

  const server = createServer(app);
  return {
    app,
    server,
    hub,
    startedAt,
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
        hub.close();
        scores.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
