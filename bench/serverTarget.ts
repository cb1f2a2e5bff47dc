// The server under measure: its Redis (`--redis`: one redis-server, or the
// six-node cluster with classic or sharded pub/sub), its instances from the
// build (`--instances`, each with its own port and NODE_NAME), and the target
// that measure() reads, every instance's figures summed.
import type { RedisMode } from './args.js';
import { startServer, stopChild } from './children.js';
import type { ServerOptions, ServerProcess } from './children.js';
import type { RedisPlan } from './ipc.js';
import type { ServerSide, Target } from './measure.js';
import { startRedisCluster } from './redisCluster.js';
import { startRedis } from './redisServer.js';
import { SHARDED_CHANNELS } from './workloads.js';

export interface ServerRedis {
  readonly plan: RedisPlan;
  /** The redis-server processes, for their CPU. */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

export async function startServerRedis(mode: RedisMode): Promise<ServerRedis> {
  if (mode === 'single') {
    const redis = await startRedis();
    return { plan: { url: redis.url }, pids: [redis.pid], stop: () => redis.stop() };
  }
  const cluster = await startRedisCluster();
  return {
    plan: { seeds: cluster.seeds, sharded: mode === 'sharded' ? SHARDED_CHANNELS : [] },
    pids: cluster.pids(),
    stop: () => cluster.stop(),
  };
}

/** Starts `count` servers at once (NODE_NAME `bench-1`… when more than one); stops them all if one fails. */
export async function startInstances(
  options: ServerOptions,
  count: number,
): Promise<ServerProcess[]> {
  const started = await Promise.allSettled(
    Array.from({ length: count }, (_, i) =>
      startServer(count === 1 ? options : { ...options, nodeName: `bench-${i + 1}` }),
    ),
  );
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await stopInstances(servers);
    throw failed.reason;
  }
  return servers;
}

/** Stops every instance, printing the output of any that did not exit cleanly. */
export async function stopInstances(servers: readonly ServerProcess[]): Promise<void> {
  await Promise.all(
    servers.map(async (server) => {
      await stopChild(server.proc, undefined, 15_000);
      if (server.proc.exitCode !== 0)
        process.stderr.write(`server ${server.pid} output:\n${server.tail()}\n`);
    }),
  );
}

/** Finds a drop counter in the status document, wherever a version of the server puts it. */
function dropCounter(doc: unknown, depth = 0): number | undefined {
  if (typeof doc !== 'object' || doc === null || depth > 2) return undefined;
  for (const [key, value] of Object.entries(doc)) {
    if (typeof value === 'number' && /drop/i.test(key)) return value;
    if (key !== 'connections') {
      const nested = dropCounter(value, depth + 1);
      if (nested !== undefined) return nested;
    }
  }
  return undefined;
}

interface StatusDoc {
  readonly eps_ticks?: { run: number; missed: number };
  readonly metrics?: Record<string, number>;
  readonly connections?: unknown;
  readonly [key: string]: unknown;
}

/** The server's running counters that a window's difference makes sense of. */
function countersOf(doc: StatusDoc): Record<string, number> {
  const out: Record<string, number> = {};
  if (doc.eps_ticks) {
    out.epsTicks = doc.eps_ticks.run;
    out.epsTicksMissed = doc.eps_ticks.missed;
  }
  const refreshes = doc.metrics?.['notify.refreshes'];
  if (refreshes !== undefined) out.refreshes = refreshes;
  return out;
}

async function statusOf(server: ServerProcess): Promise<StatusDoc> {
  const res = await fetch(`http://127.0.0.1:${server.port}/admin/status.json`);
  return (await res.json()) as StatusDoc;
}

/**
 * The instances as one target: connections, drops and counters summed over them;
 * `extra` adds what the runner knows (the feeder's counters) to the server's side.
 */
export function serverTarget(
  servers: readonly ServerProcess[],
  workers: number,
  helpers: Target['helpers'],
  extra: () => Promise<Readonly<Record<string, unknown>>>,
): Target {
  return {
    name: 'rx',
    instances: servers.map(({ pid, port }) => ({ pid, port })),
    helpers,
    async counters(): Promise<Record<string, number>> {
      // Each request may reach another worker: one worker's counters only make
      // a window's difference when there is one.
      if (workers > 1) return {};
      const sums: Record<string, number> = {};
      for (const doc of await Promise.all(servers.map(statusOf)))
        for (const [name, value] of Object.entries(countersOf(doc)))
          sums[name] = (sums[name] ?? 0) + value;
      return sums;
    },
    async serverSide(): Promise<ServerSide> {
      const docs = await Promise.all(servers.map(statusOf));
      const open = docs.map((d) => (Array.isArray(d.connections) ? d.connections.length : null));
      const rest = docs.map(({ connections: _, ...doc }) => doc);
      return {
        connections: open.includes(null) ? null : (open as number[]).reduce((a, b) => a + b, 0),
        // With several workers the document may describe only the one that
        // answered, while every worker logs its drops to the same output.
        drops: servers.reduce(
          (sum, server, i) => sum + Math.max(dropCounter(docs[i]) ?? 0, server.matched()),
          0,
        ),
        extra: {
          ...(servers.length === 1 ? rest[0] : { instances: rest }),
          ...(await extra()),
        },
      };
    },
  };
}
