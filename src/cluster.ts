// Multi-core serving: with WORKERS=N the primary process forks N workers that
// share the listening port (node:cluster); each has its own Redis subscription.
// The primary only supervises: it replaces a worker that dies and, on SIGTERM or
// SIGINT, passes the signal on and exits once every worker has shut down.
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import type { Logger } from './core/logger.js';

export interface SuperviseOptions {
  readonly workers: number;
  readonly logger: Logger;
  /** How long the workers get to shut down before they are killed. */
  readonly shutdownTimeoutMs: number;
}

/** The environment variable that tells a worker its slot, 0…WORKERS-1. */
export const WORKER_SLOT_VARIABLE = 'RXS_WORKER_SLOT';

/** Which worker this process is: 0 outside a cluster. */
export function workerId(): number {
  return cluster.worker?.id ?? 0;
}

export function superviseWorkers(options: SuperviseOptions): void {
  const log = options.logger.child({ component: 'cluster' });
  let stopping = false;
  const recentDeaths: number[] = [];

  // Each worker has a slot, kept by its replacement, so that what a worker names
  // after itself (its queue consumer group) survives it.
  const slots = new Map<number, number>();
  const fork = (slot: number): Worker => {
    const worker = cluster.fork({ [WORKER_SLOT_VARIABLE]: String(slot) });
    slots.set(worker.id, slot);
    return worker;
  };
  for (let i = 0; i < options.workers; i++) fork(i);
  log.info('started workers', { workers: options.workers, pid: process.pid });

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const now = Date.now();
    recentDeaths.push(now);
    while (recentDeaths.length > 0 && (recentDeaths[0] as number) < now - 60_000)
      recentDeaths.shift();
    // A worker that keeps dying at start (a bad port, say) must not be re-forked forever.
    if (recentDeaths.length > options.workers * 5) {
      log.error('workers keep dying; giving up', { code, signal });
      process.exit(1);
    }
    const slot = slots.get(worker.id) ?? 0;
    slots.delete(worker.id);
    log.warn('worker died; starting another', { worker: worker.id, slot, code, signal });
    fork(slot);
  });

  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter(
      (w): w is Worker => w !== undefined,
    );
    log.info('shutting down workers', { signal, workers: workers.length });
    const deadline = setTimeout(() => {
      for (const w of workers) w.process.kill('SIGKILL');
      process.exit(1);
    }, options.shutdownTimeoutMs + 1_000);
    deadline.unref();
    let left = workers.length;
    if (left === 0) process.exit(0);
    for (const w of workers) {
      w.once('exit', () => {
        if (--left === 0) process.exit(0);
      });
      w.process.kill(signal);
    }
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
