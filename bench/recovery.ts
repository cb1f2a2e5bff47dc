// The recovery workload: the server from the build on its own Redis, pub/sub
// clients on a few channels, a publisher publishing with history (the build's
// publish()), then every client dropped for a while with publishing going on,
// and all of them back at once with `recover`. Measures each client's catch-up
// time, checks every offset it got (no loss, no duplicate, none unrecovered),
// and reads the server's CPU and the Redis commands the storm cost.
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import type { BenchArgs } from './args.js';
import { forkBench, nextMessage, startServer, stopChild } from './children.js';
import type {
  FeederPlan,
  FeedStats,
  FromFeeder,
  FromRecoveryClients,
  RecoveryClientPlan,
  RecoveryReport,
  RecoveryStatus,
  StatsRequest,
  FeederControl,
  ToRecoveryClients,
  TrafficPlan,
} from './ipc.js';
import { machineCpu, treeCpuSeconds } from './procStats.js';
import { commandDelta, commandStats } from './redisCommands.js';
import type { CommandStat } from './redisCommands.js';
import { startRedis } from './redisServer.js';
import { PING_MS } from './workloads.js';

/** The longest the storm may take before the clients still out are counted as not caught up. */
const STORM_TIMEOUT_MS = 60_000;
const POLL_MS = 50;
/** Live traffic after the storm, then the publisher paused and this long for the last frames. */
const AFTER_STORM_MS = 1_000;
const SETTLE_MS = 1_000;

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** Exact percentiles of sorted values. */
function percentiles(sorted: readonly number[]): Percentiles {
  return {
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: percentile(sorted, 1),
  };
}

export interface RecoveryResult {
  readonly connected: number;
  readonly failed: number;
  /** The server's settings that decide whether a drop can be recovered. */
  readonly settings: Readonly<Record<string, string>>;
  readonly report: RecoveryReport;
  /** From the reconnect until every client caught up, was told unrecovered, or failed. */
  readonly stormS: number;
  readonly timedOut: boolean;
  /** Over the clients: ms from the reconnect until caught up, until the 101, until the acknowledgement. */
  readonly caughtUpMs: Percentiles;
  readonly upgradedMs: Percentiles;
  readonly afterOpenMs: Percentiles;
  readonly ackMs: Percentiles;
  /** CPU seconds over the storm and as a share of one core, by process. */
  readonly cpuS: Readonly<Record<'server' | 'redis' | 'publisher' | 'clients', number>>;
  readonly corePercent: Readonly<Record<'server' | 'redis' | 'publisher' | 'clients', number>>;
  readonly machineBusyPercent: number;
  /** CPU of processes outside this benchmark during the storm, as a share of one core. */
  readonly otherCorePercent: number;
  /** INFO commandstats over the storm, the runner's own INFO left out. */
  readonly redisCommands: Readonly<Record<string, CommandStat>>;
  readonly redisCalls: number;
  /** Messages published during the storm, and in the whole run; publish errors. */
  readonly publishedInStorm: number;
  readonly published: number;
  readonly publishErrors: number;
  readonly warnings: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const progress = (text: string) => process.stderr.write(`  ${text}\n`);

/** The exact percentile of sorted values (nearest rank). */
function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

async function feederStats(feeder: ChildProcess): Promise<FeedStats> {
  const answer = nextMessage<FromFeeder, 'stats'>(feeder, 'stats');
  feeder.send({ type: 'stats' } satisfies StatsRequest);
  return (await answer).stats;
}

function ask<T extends 'dropped' | 'status' | 'report'>(
  clients: ChildProcess[],
  request: ToRecoveryClients,
  type: T,
): Promise<Extract<FromRecoveryClients, { type: T }>[]> {
  const answers = clients.map((c) => nextMessage<FromRecoveryClients, T>(c, type));
  for (const c of clients) c.send(request);
  return Promise.all(answers);
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function addStatus(parts: readonly RecoveryStatus[]): RecoveryStatus {
  return {
    resolved: sum(parts.map((p) => p.resolved)),
    caughtUp: sum(parts.map((p) => p.caughtUp)),
    unrecovered: sum(parts.map((p) => p.unrecovered)),
    failed: sum(parts.map((p) => p.failed)),
    refused: sum(parts.map((p) => p.refused)),
  };
}

function addReports(parts: readonly RecoveryReport[]): RecoveryReport {
  const counts = (pick: (r: RecoveryReport) => RecoveryReport['steady']) => ({
    lost: sum(parts.map((p) => pick(p).lost)),
    duplicates: sum(parts.map((p) => pick(p).duplicates)),
    noOffset: sum(parts.map((p) => pick(p).noOffset)),
    controlErrors: sum(parts.map((p) => pick(p).controlErrors)),
    gapNotices: sum(parts.map((p) => pick(p).gapNotices)),
  });
  const firstError = parts.find((p) => p.firstError)?.firstError;
  return {
    ...addStatus(parts),
    steady: counts((r) => r.steady),
    storm: counts((r) => r.storm),
    caughtUpMs: parts.flatMap((p) => p.caughtUpMs).sort((a, b) => a - b),
    upgradedMs: parts.flatMap((p) => p.upgradedMs).sort((a, b) => a - b),
    afterOpenMs: parts.flatMap((p) => p.afterOpenMs).sort((a, b) => a - b),
    ackMs: parts.flatMap((p) => p.ackMs).sort((a, b) => a - b),
    caughtUpDirty: sum(parts.map((p) => p.caughtUpDirty)),
    replayed: sum(parts.map((p) => p.replayed)),
    behindAtEnd: sum(parts.map((p) => p.behindAtEnd)),
    missingAtEnd: sum(parts.map((p) => p.missingAtEnd)),
    disconnects: sum(parts.map((p) => p.disconnects)),
    ...(firstError ? { firstError } : {}),
  };
}

/**
 * History kept and replayed per channel: enough for the messages a client
 * misses while away plus 10 s, at least the server's defaults (100 and 300).
 */
export function recoverySettings(args: BenchArgs): Record<string, string> {
  const missed = Math.ceil((args.rate / args.channels) * (args.dropS + 10));
  return {
    HISTORY_SIZE: String(Math.max(100, missed)),
    RECOVERY_MAX: String(Math.max(300, missed)),
    // A thousand connections at once: the accept queue must not be what is measured.
    LISTEN_BACKLOG: '4096',
    WS_PING_MS: String(PING_MS),
  };
}

export async function runRecovery(
  dist: string,
  args: BenchArgs,
  traffic: Omit<TrafficPlan, 'tickMs'>,
  nodeArgs: readonly string[],
): Promise<RecoveryResult> {
  const settings = recoverySettings(args);
  const redis = await startRedis();
  const stats = new Redis(redis.url, { connectionName: 'rx-streamer-bench:runner' });
  const children: ChildProcess[] = [];
  try {
    const server = await startServer({
      dist,
      redis: { url: redis.url },
      workers: args.workers,
      nodeArgs,
      countPattern: /slow client/i,
      env: settings,
    });
    children.push(server.proc);
    const plan: FeederPlan = {
      ...traffic,
      dist,
      redis: { url: redis.url },
      tickMs: 5,
      publishPath: 'script',
      history: { size: Number(settings.HISTORY_SIZE), ttlS: 300 },
    };
    const feeder = forkBench('feeder', plan);
    children.push(feeder);
    await nextMessage<FromFeeder, 'ready'>(feeder, 'ready');

    progress(`rx: connecting ${args.clients} clients over ${args.clientProcs} process(es)`);
    const clients = Array.from({ length: args.clientProcs }, (_, i) => {
      const first = Math.floor((i * args.clients) / args.clientProcs);
      const next = Math.floor(((i + 1) * args.clients) / args.clientProcs);
      const clientPlan: RecoveryClientPlan = {
        host: '127.0.0.1',
        port: server.port,
        count: next - first,
        firstIndex: first,
        channels: args.channels,
        connectBatch: 100,
      };
      return forkBench('recoveryClients', clientPlan);
    });
    children.push(...clients);
    const connections = await Promise.all(
      clients.map((c) => nextMessage<FromRecoveryClients, 'connected'>(c, 'connected', 180_000)),
    );
    const connected = sum(connections.map((c) => c.ok));
    const failed = sum(connections.map((c) => c.failed));
    if (connected === 0)
      throw new Error(`no client could connect: ${connections[0]?.firstError ?? 'unknown'}`);
    progress(`rx: ${connected} connected; ${args.warmupS} s of traffic`);
    await sleep(args.warmupS * 1000);

    const dropped = sum((await ask(clients, { type: 'drop' }, 'dropped')).map((d) => d.count));
    progress(`rx: ${dropped} clients dropped for ${args.dropS} s`);
    await sleep(args.dropS * 1000);

    const cpu = () => ({
      server: treeCpuSeconds(server.pid),
      redis: treeCpuSeconds(redis.pid),
      publisher: treeCpuSeconds(feeder.pid as number),
      clients: sum(clients.map((c) => treeCpuSeconds(c.pid as number))),
    });
    const commandsBefore = await commandStats(stats);
    const sentBefore = (await feederStats(feeder)).sent;
    const machineBefore = machineCpu();
    const cpuBefore = cpu();
    const started = performance.now();
    for (const c of clients) c.send({ type: 'reconnect' } satisfies ToRecoveryClients);
    progress(`rx: ${dropped} clients reconnecting at once with recover`);
    let status = addStatus((await ask(clients, { type: 'status' }, 'status')).map((s) => s.status));
    while (status.resolved < dropped && performance.now() - started < STORM_TIMEOUT_MS) {
      await sleep(POLL_MS);
      status = addStatus((await ask(clients, { type: 'status' }, 'status')).map((s) => s.status));
    }
    const stormMs = performance.now() - started;
    const cpuAfter = cpu();
    const machineAfter = machineCpu();
    const commandsAfter = await commandStats(stats);
    const publishedInStorm = (await feederStats(feeder)).sent - sentBefore;
    progress(
      `rx: storm over after ${(stormMs / 1000).toFixed(2)} s: ${status.caughtUp} caught up, ` +
        `${status.unrecovered} unrecovered, ${status.refused} refused, ${status.failed} failed`,
    );

    // Live traffic for a while, then quiet, so every client can be held to its channel's top.
    await sleep(AFTER_STORM_MS);
    feeder.send({ type: 'pause' } satisfies FeederControl);
    let final = await feederStats(feeder);
    for (let waited = 0; (final.done ?? 0) + final.errors < final.sent && waited < 10_000;) {
      await sleep(100);
      waited += 100;
      final = await feederStats(feeder);
    }
    await sleep(SETTLE_MS);
    const report = addReports(
      (await ask(clients, { type: 'report', tops: final.tops ?? {} }, 'report')).map(
        (r) => r.report,
      ),
    );

    const stormS = stormMs / 1000;
    const cpuS = {
      server: cpuAfter.server - cpuBefore.server,
      redis: cpuAfter.redis - cpuBefore.redis,
      publisher: cpuAfter.publisher - cpuBefore.publisher,
      clients: cpuAfter.clients - cpuBefore.clients,
    };
    const core = (s: number) => (100 * s) / stormS;
    const redisCommands = commandDelta(commandsBefore, commandsAfter);
    const warnings: string[] = [];
    if (failed > 0) warnings.push(`${failed} clients could not connect`);
    if (stormMs >= STORM_TIMEOUT_MS)
      warnings.push(`the storm was cut off after ${STORM_TIMEOUT_MS / 1000} s`);
    if (core(cpuS.clients) > 85 * args.clientProcs)
      warnings.push(
        `the clients used ${core(cpuS.clients).toFixed(0)} % of a core during the storm: ` +
          'they, not the server, may set the catch-up times (raise --client-procs)',
      );
    if (final.errors > 0)
      warnings.push(`${final.errors} publish errors: ${final.firstError ?? ''}`);
    if (report.firstError) warnings.push(`first client error: ${report.firstError}`);
    const serverLine = server
      .tail()
      .split('\n')
      .find((line) => /"level":"error"/.test(line));
    if (serverLine) warnings.push(`server: ${serverLine.slice(0, 300)}`);
    const busy = machineAfter.busySeconds - machineBefore.busySeconds;
    const machineBusyPercent = (100 * busy) / stormS / machineAfter.cores;
    const otherCorePercent = Math.max(0, core(busy - sum(Object.values(cpuS))));
    if (otherCorePercent > 20)
      warnings.push(
        `other processes used ${otherCorePercent.toFixed(0)} % of a core during the storm`,
      );
    if (machineBusyPercent > 90)
      warnings.push(
        `the machine was saturated during the storm (${machineBusyPercent.toFixed(0)} %)`,
      );
    return {
      connected,
      failed,
      settings,
      report,
      stormS,
      timedOut: stormMs >= STORM_TIMEOUT_MS,
      caughtUpMs: percentiles(report.caughtUpMs),
      upgradedMs: percentiles(report.upgradedMs),
      afterOpenMs: percentiles(report.afterOpenMs),
      ackMs: percentiles(report.ackMs),
      cpuS,
      corePercent: {
        server: core(cpuS.server),
        redis: core(cpuS.redis),
        publisher: core(cpuS.publisher),
        clients: core(cpuS.clients),
      },
      machineBusyPercent,
      otherCorePercent,
      redisCommands,
      redisCalls: sum(Object.values(redisCommands).map((c) => c.calls)),
      publishedInStorm,
      published: final.sent,
      publishErrors: final.errors,
      warnings,
    };
  } finally {
    stats.disconnect();
    // The clients first, so the server does not see them go as it stops.
    for (const child of children.slice(2).reverse())
      await stopChild(child, { type: 'close' } satisfies ToRecoveryClients);
    if (children[1]) await stopChild(children[1], { type: 'stop' } satisfies StatsRequest);
    if (children[0]) await stopChild(children[0], undefined, 15_000);
    await redis.stop();
  }
}
