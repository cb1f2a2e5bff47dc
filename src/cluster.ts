// Multi-core serving: with WORKERS=N the primary process forks N workers, each
// with its own Redis subscription, and owns the listening socket. It reads each
// new connection's request line and passes the connection on: to the worker a
// SockJS session's id hashes to, when the target names one (every request of a
// session must reach the worker that holds it), otherwise to each in turn. It
// replaces a worker that dies (the replacement takes its slot, and so its
// sessions) and, on SIGTERM or SIGINT, stops accepting, passes the signal on and
// exits once every worker has shut down.
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { maxHeaderSize } from 'node:http';
import type { Server } from 'node:http';
import { Socket, isIPv6 } from 'node:net';
import type { AddressInfo } from 'node:net';
import { listenProblem } from './core/listenProblem.js';
import type { Logger } from './core/logger.js';
import { serveHandedConnections } from './transports/http/handedConnections.js';
import { routeConnections } from './transports/http/routeConnections.js';
import { sessionIdOf, slotOf } from './transports/http/sessionRoute.js';
import { READY, TAKEN, WorkerSlots, isHandoff } from './WorkerSlots.js';

export interface SuperviseOptions {
  readonly workers: number;
  readonly logger: Logger;
  /** How long the workers get to shut down before they are killed. */
  readonly shutdownTimeoutMs: number;
  /** Where to listen (PORT, HOST, LISTEN_BACKLOG); the workers are told the port, 0 included. */
  readonly port: number;
  readonly host?: string;
  readonly backlog?: number;
  /** Time a new connection has to send its request line. */
  readonly requestLineTimeoutMs?: number;
  /** Time a connection waits for its slot's worker (one being replaced) before a 503. */
  readonly handoffTimeoutMs?: number;
}

/** The environment variable that tells a worker its slot, 0…WORKERS-1. */
export const WORKER_SLOT_VARIABLE = 'RXS_WORKER_SLOT';

/** Which worker this process is: 0 outside a cluster. */
export function workerId(): number {
  return cluster.worker?.id ?? 0;
}

export async function superviseWorkers(options: SuperviseOptions): Promise<void> {
  const log = options.logger.child({ component: 'cluster' });
  let stopping = false;
  const recentDeaths: number[] = [];
  const slots = new WorkerSlots(options.workers, options.handoffTimeoutMs ?? 10_000);

  const router = await routeConnections({
    port: options.port,
    host: options.host,
    backlog: options.backlog,
    lineTimeoutMs: options.requestLineTimeoutMs ?? 10_000,
    maxLineBytes: maxHeaderSize,
    route: (socket, received, sessionId) => slots.route(socket, received, sessionId),
  }).catch((err: unknown) => {
    const problem =
      listenProblem(err, options) ?? `cannot listen on PORT=${options.port}: ${String(err)}`;
    process.stderr.write(`rx-streamer: ${problem}\n`);
    return process.exit(1);
  });
  const { port } = router.address;

  // Each worker has a slot, kept by its replacement, so that what a worker names
  // after itself (its queue consumer group) and the sessions hashed to it survive it.
  const fork = (index: number): void => {
    slots.assign(
      index,
      cluster.fork({ [WORKER_SLOT_VARIABLE]: String(index), PORT: String(port) }),
    );
  };
  // Every slot is assigned before any connection can be routed (in this same turn).
  for (let i = 0; i < options.workers; i++) fork(i);
  log.info('started workers; the primary routes their connections', {
    workers: options.workers,
    pid: process.pid,
    port,
  });

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const now = Date.now();
    recentDeaths.push(now);
    while (recentDeaths.length > 0 && (recentDeaths[0] as number) < now - 60_000)
      recentDeaths.shift();
    // A worker that keeps dying at start (a bad configuration, say) must not be re-forked forever.
    if (recentDeaths.length > options.workers * 5) {
      log.error('workers keep dying; giving up', { code, signal });
      process.exit(1);
    }
    const slot = slots.slotOf(worker);
    if (slot === undefined) return;
    log.warn('worker died; starting another', { worker: worker.id, slot, code, signal });
    fork(slot);
  });

  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    // New connections are refused from now on; those not yet with a worker are dropped.
    router.close();
    slots.close();
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

/**
 * In a worker: serves on `server` the connections the primary passes on, and
 * tells the primary it is ready for them. Resolves with the address the
 * primary listens on, for the log.
 */
export async function serveFromPrimary(
  server: Server,
  listening: { readonly port: number; readonly host?: string },
): Promise<AddressInfo> {
  let slot = 0;
  let slots = 1;
  const handed = await serveHandedConnections(server, {
    elsewhere: (req) => {
      const id = sessionIdOf(req.url ?? '');
      return id !== undefined && slotOf(id, slots) !== slot;
    },
  });
  process.on('message', (message: unknown, socket: unknown) => {
    if (!isHandoff(message) || !(socket instanceof Socket)) return;
    slot = message.slot;
    slots = message.slots;
    handed.adopt(socket, Buffer.from(message.received, 'base64'));
    process.send?.({ cmd: TAKEN });
  });
  process.send?.({ cmd: READY });
  const host = listening.host ?? '::';
  return { port: listening.port, address: host, family: isIPv6(host) ? 'IPv6' : 'IPv4' };
}
