// The admin endpoints: /admin/status.json (the SPEC status document plus a few
// operator fields) and the human page at /admin/, served from public/admin.
// Clients' addresses are masked unless the operator asks (see privacy.ts), at
// most ADMIN_MAX_CONNECTIONS are listed, and the list is written in slices so a
// large one never holds the event loop.
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import type { Response } from 'express';
import { workerId } from '../cluster.js';
import { StreamerError } from '../core/errors.js';
import type { MetricsRegistry } from '../core/metrics.js';
import type { Readiness } from '../core/readiness.js';
import type { Hub } from '../fanout/Hub.js';
import { maskConnection, statusDetail } from './privacy.js';
import type { StatusDetail } from './privacy.js';
import { connectionStatus, firstConnections, statusReport } from './statusReport.js';
import type { StatusReport } from './statusReport.js';

/** ADMIN_MAX_CONNECTIONS's default, for a source that does not say. */
export const DEFAULT_ADMIN_MAX_CONNECTIONS = 1000;
/** Connections serialized between two turns of the event loop. */
const SLICE = 500;

export interface AdminStatusSource {
  readonly hub: Hub;
  readonly node: string;
  readonly startedAt: number;
  readonly metrics: MetricsRegistry;
  readonly readiness: () => Readiness;
  /** The mounted protocols, by name, each with the fields it adds (`eps_ticks`…). */
  readonly protocols: () => Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** ADMIN_TOKEN: the bearer token that unlocks full detail; unset, every document is masked. */
  readonly adminToken?: string | undefined;
  /** ADMIN_MAX_CONNECTIONS: the most connections a document lists. */
  readonly adminMaxConnections?: number;
}

export interface AdminStatusOptions {
  /** `full` (the default, for operator-private sinks) or `masked` addresses and User-Agents. */
  readonly detail?: StatusDetail;
  /** Overrides the source's adminMaxConnections. */
  readonly maxConnections?: number;
}

/** The SPEC fields keep their exact shape; the rest are additions for people. */
export interface AdminStatus extends StatusReport {
  /** Whether client addresses and User-Agents are shown whole or masked. */
  readonly detail: StatusDetail;
  /** The cluster worker that answered (0 without WORKERS) and its process id. */
  readonly worker: number;
  readonly pid: number;
  readonly uptime_s: number;
  readonly ready: boolean;
  readonly msgs_in: number;
  readonly bytes_written: number;
  readonly slow_clients_dropped: number;
  readonly clients_by_family: Record<string, number>;
  readonly memory: { rss: number; heap_used: number; heap_total: number; external: number };
  /** The mounted protocols' names. */
  readonly protocols: string[];
  /** Every counter and gauge of the metrics registry, by name. */
  readonly metrics: Record<string, number>;
  /** Each protocol's own fields, e.g. emojitrack's `eps_ticks`. */
  readonly [field: string]: unknown;
}

/** The whole status document, built at once: bounded, so fine for the status hash. */
export function adminStatus(
  source: AdminStatusSource,
  now = Date.now(),
  options: AdminStatusOptions = {},
): AdminStatus {
  const { hub } = source;
  const detail = options.detail ?? 'full';
  const maxConnections =
    options.maxConnections ?? source.adminMaxConnections ?? DEFAULT_ADMIN_MAX_CONNECTIONS;
  const clients: Record<string, number> = {};
  for (const family of hub.familyNames()) clients[family] = hub.clientCount(family);
  const mem = process.memoryUsage();
  const { counters, gauges } = source.metrics.read();
  const protocols = source.protocols();
  const core = {
    ...statusReport(hub, source.node, source.startedAt, now, {
      maxConnections,
      ...(detail === 'masked' ? { view: maskConnection } : {}),
    }),
    detail,
    worker: workerId(),
    pid: process.pid,
    uptime_s: Math.floor((now - source.startedAt) / 1000),
    ready: source.readiness().ready,
    msgs_in: counters['stream.messages.in'] ?? 0,
    bytes_written: hub.stats.bytesWritten,
    slow_clients_dropped: hub.stats.slowClientsDropped,
    clients_by_family: clients,
    memory: {
      rss: mem.rss,
      heap_used: mem.heapUsed,
      heap_total: mem.heapTotal,
      external: mem.external,
    },
    protocols: Object.keys(protocols),
    metrics: { ...counters, ...gauges },
  };
  // A protocol's fields come after the core's and never replace one of them.
  const out: Record<string, unknown> = { ...core };
  for (const section of Object.values(protocols)) {
    for (const [field, value] of Object.entries(section)) if (!(field in out)) out[field] = value;
  }
  return out as AdminStatus;
}

const PAGE_DIR = fileURLToPath(new URL('../../public/admin/', import.meta.url));

/**
 * Writes the document with its connections serialized SLICE at a time, a turn
 * of the event loop (and the socket's drain, if it is full) between slices.
 */
async function writeStatus(
  res: Response,
  source: AdminStatusSource,
  detail: StatusDetail,
): Promise<void> {
  const now = Date.now();
  const listed = firstConnections(
    source.hub,
    source.adminMaxConnections ?? DEFAULT_ADMIN_MAX_CONNECTIONS,
  );
  // Everything but the list, which follows as the last field.
  const head: Record<string, unknown> = {
    ...adminStatus(source, now, { detail, maxConnections: 0 }),
  };
  delete head.connections;
  res.type('application/json');
  res.write(`${JSON.stringify(head).slice(0, -1)},"connections":[`);
  for (let i = 0; i < listed.length; i += SLICE) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    if (res.destroyed) return;
    const slice = listed.slice(i, i + SLICE).map((c) => {
      const entry = connectionStatus(c);
      return detail === 'full' ? entry : maskConnection(entry);
    });
    if (!res.write(`${i > 0 ? ',' : ''}${JSON.stringify(slice).slice(1, -1)}`)) await drained(res);
  }
  if (!res.destroyed) res.end(']}');
}

/** Resolves when the response can take more, or is gone. */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export function adminRouter(source: AdminStatusSource): Router {
  const router = Router();
  router.get('/admin/status.json', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const detail = statusDetail({ headers: req.headers }, source.adminToken);
    if (detail === 'unauthorized') {
      res.setHeader('WWW-Authenticate', 'Bearer realm="rx-streamer admin"');
      throw new StreamerError(
        'RXS_ERR_UNAUTHORIZED',
        'the Authorization header does not carry the ADMIN_TOKEN bearer token',
        401,
      );
    }
    await writeStatus(res, source, detail);
  });
  router.use(
    '/admin',
    express.static(PAGE_DIR, {
      index: 'index.html',
      // The page is tiny and changes with the server: always revalidate.
      setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
    }),
  );
  return router;
}
