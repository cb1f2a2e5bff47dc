// The admin endpoints: /admin/status.json (the SPEC status document plus a few
// operator fields) and the human page at /admin/, served from public/admin.
import { workerId } from '../cluster.js';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import type { ClockCounts } from '../protocols/emojitrack/feeds.js';
import type { SseHub } from '../fanout/Hub.js';
import { statusReport } from './statusReport.js';
import type { StatusReport } from './statusReport.js';
import type { Readiness } from './health.js';

export interface AdminStatusSource {
  readonly hub: SseHub;
  readonly node: string;
  readonly startedAt: number;
  /** Messages taken in from the bus so far. */
  readonly messagesIn: () => number;
  readonly epsClock: Readonly<ClockCounts>;
  readonly readiness: () => Readiness;
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
  readonly eps_ticks: { readonly run: number; readonly missed: number };
  readonly clients_by_family: Record<string, number>;
  readonly memory: { rss: number; heap_used: number; heap_total: number; external: number };
}

export function adminStatus(source: AdminStatusSource, now = Date.now()): AdminStatus {
  const { hub } = source;
  const clients: Record<string, number> = {};
  for (const family of hub.familyNames()) clients[family] = hub.clientCount(family);
  const mem = process.memoryUsage();
  return {
    ...statusReport(hub, source.node, source.startedAt, now),
    worker: workerId(),
    pid: process.pid,
    uptime_s: Math.floor((now - source.startedAt) / 1000),
    ready: source.readiness().ready,
    msgs_in: source.messagesIn(),
    bytes_written: hub.stats.bytesWritten,
    slow_clients_dropped: hub.stats.slowClientsDropped,
    eps_ticks: { run: source.epsClock.ticks, missed: source.epsClock.missed },
    clients_by_family: clients,
    memory: {
      rss: mem.rss,
      heap_used: mem.heapUsed,
      heap_total: mem.heapTotal,
      external: mem.external,
    },
  };
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
