// The admin endpoints: /admin/status.json (the SPEC status document plus a few
// operator fields) and the human page at /admin/, served from public/admin.
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import { workerId } from '../cluster.js';
import type { MetricsRegistry } from '../core/metrics.js';
import type { Readiness } from '../core/protocol.js';
import type { Hub } from '../fanout/Hub.js';
import { statusReport } from './statusReport.js';
import type { StatusReport } from './statusReport.js';

export interface AdminStatusSource {
  readonly hub: Hub;
  readonly node: string;
  readonly startedAt: number;
  readonly metrics: MetricsRegistry;
  readonly readiness: () => Readiness;
  /** The mounted protocols, by name, each with the fields it adds (`eps_ticks`…). */
  readonly protocols: () => Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** The SPEC fields keep their exact shape; the rest are additions for people. */
export interface AdminStatus extends StatusReport {
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

export function adminStatus(source: AdminStatusSource, now = Date.now()): AdminStatus {
  const { hub } = source;
  const clients: Record<string, number> = {};
  for (const family of hub.familyNames()) clients[family] = hub.clientCount(family);
  const mem = process.memoryUsage();
  const { counters, gauges } = source.metrics.read();
  const protocols = source.protocols();
  const core = {
    ...statusReport(hub, source.node, source.startedAt, now),
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

export function adminRouter(source: AdminStatusSource): Router {
  const router = Router();
  router.get('/admin/status.json', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(adminStatus(source));
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
