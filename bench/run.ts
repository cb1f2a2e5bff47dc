// The benchmark runner (`npm run bench`): the server from the build output (on
// pubsub, as one or several instances, on one Redis or a Redis Cluster) on its
// own Redis with a feeder, then the floor (on datastream, reading its own Redis
// that the feeder fills), then (pubsub) the Socket.IO peer on its own Redis, all
// measured by the same clients over the same window, with (datastream) a burst
// after it; prints the table and writes the JSON under bench/results/.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseBenchArgs, startNodeArgs, USAGE } from './args.js';
import type { BenchArgs } from './args.js';
import { buildChildren, forkBench, nextMessage, stopChild } from './children.js';
import type { ServerProcess } from './children.js';
import { ensureBuilt, revisionOf } from './build.js';
import { ROOT } from './demo.js';
import type {
  FeederPlan,
  FeedStats,
  FloorPlan,
  FromFeeder,
  FromFloor,
  FromPeer,
  PeerPlan,
  StatsRequest,
} from './ipc.js';
import { measure } from './measure.js';
import type { ServerSide, Target, TargetResult, Workload } from './measure.js';
import { serverTarget, startInstances, startServerRedis, stopInstances } from './serverTarget.js';
import { Redis } from 'ioredis';
import { formatProfile, summarizeProfile } from './profileTop.js';
import type { ProfileSummary } from './profileTop.js';
import { burstAndDrain, queueLag } from './queueBurst.js';
import { startRedis } from './redisServer.js';
import { formatTable, writeResult } from './report.js';
import type { BenchResult } from './report.js';
import { PING_MS, publishPathSetup, setUpWorkload } from './workloads.js';
import { formatPublishTable } from './publishReport.js';
import type { PublishResult } from './publishReport.js';
import { runRecovery } from './recovery.js';
import { formatRecoveryTable } from './recoveryReport.js';
import type { RecoveryBenchResult } from './recoveryReport.js';
import type { WorkloadSetup } from './workloads.js';

const RESULTS = join(ROOT, 'bench', 'results');
const TICK_MS = 5;
const EPS_INTERVAL_MS = 1000 / 60;
const SLOW_CLIENT_LOG = /slow client/i;

function profileSummaries(dir: string, label: string): Record<string, ProfileSummary> {
  const out: Record<string, ProfileSummary> = {};
  if (!existsSync(dir)) return out;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const summary = summarizeProfile(join(dir, file), 15, ROOT);
    out[`${label}/${file}`] = summary;
    process.stdout.write(
      `\nCPU profile ${label} (${join(dir, file)}):\n${formatProfile(summary)}\n`,
    );
  }
  return out;
}

/**
 * Starts the feeder on the plan's Redis, lets the target settle with traffic flowing
 * (before its memory is read), and measures it, with the messages the feeder
 * sent among the window's counters and, on datastream, the burst after it.
 */
async function feedAndMeasure(
  plan: FeederPlan,
  setup: WorkloadSetup,
  workload: Workload,
  targetOf: (feeder: ChildProcess) => Target,
): Promise<TargetResult> {
  const feeder = forkBench('feeder', plan);
  const redis =
    setup.burst && 'url' in plan.redis
      ? new Redis(plan.redis.url, { connectionName: 'rx-streamer-bench:runner' })
      : undefined;
  try {
    await nextMessage<FromFeeder, 'ready'>(feeder, 'ready');
    await new Promise((r) => setTimeout(r, 1000));
    const target = targetOf(feeder);
    const sent = async () => (await feederStats(feeder)).sent;
    const { burst } = setup;
    return await measure(
      {
        ...target,
        counters: async () => ({ ...((await target.counters?.()) ?? {}), sent: await sent() }),
        ...(redis && burst
          ? {
              afterWindow: async (clients) => ({
                lagAtWindowEnd: await queueLag(redis, plan.datastream.key),
                ...(await burstAndDrain(redis, feeder, sent, clients, {
                  ...burst,
                  key: plan.datastream.key,
                })),
              }),
            }
          : {}),
      },
      workload,
    );
  } finally {
    redis?.disconnect();
    await stopChild(feeder, { type: 'stop' } satisfies StatsRequest);
  }
}

/** The feeder's counters, for a target's server-side figures. */
async function feederStats(feeder: ChildProcess): Promise<FeedStats> {
  const stats = nextMessage<FromFeeder, 'stats'>(feeder, 'stats');
  feeder.send({ type: 'stats' } satisfies StatsRequest);
  return (await stats).stats;
}

const profiling = (dir: string | undefined) => (dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : []);

async function runServer(
  dist: string,
  args: BenchArgs,
  setup: WorkloadSetup,
  profileDir: string | undefined,
): Promise<TargetResult> {
  const redis = await startServerRedis(args.redis);
  try {
    const servers = await startInstances(
      {
        dist,
        redis: redis.plan,
        workers: args.workers,
        nodeArgs: [...args.nodeArgs, ...profiling(profileDir)],
        countPattern: SLOW_CLIENT_LOG,
        env: setup.serverEnv,
      },
      args.instances,
    );
    try {
      const { publisher } = setup;
      // The publish workload runs one instance: the paths through the server take it.
      const first = servers[0] as ServerProcess;
      const plan: FeederPlan = {
        ...setup.traffic,
        dist,
        redis: redis.plan,
        tickMs: TICK_MS,
        ...(publisher
          ? {
              publishPath: publisher.path,
              server: { port: first.port, apiKey: publisher.apiKey },
              history: { size: 100, ttlS: 300 },
            }
          : {}),
      };
      return await feedAndMeasure(plan, setup, setup.workload, (feeder) =>
        serverTarget(
          servers,
          args.workers,
          { feeder: feeder.pid as number, redis: redis.pids },
          async () => ({ feeder: await feederStats(feeder) }),
        ),
      );
    } finally {
      await stopInstances(servers);
    }
  } finally {
    await redis.stop();
  }
}

/** The Socket.IO server on its own Redis, fed through its emitter by the same feeder. */
async function runPeer(
  dist: string,
  setup: WorkloadSetup,
  workload: Workload,
  profileDir: string | undefined,
): Promise<TargetResult> {
  const redis = await startRedis();
  try {
    const peerPlan: PeerPlan = { redisUrl: redis.url, pingMs: PING_MS };
    const peer = forkBench('socketioPeer', peerPlan, profiling(profileDir));
    try {
      const { port } = await nextMessage<FromPeer, 'listening'>(peer, 'listening');
      const plan: FeederPlan = {
        ...setup.traffic,
        dist,
        redis: { url: redis.url },
        tickMs: TICK_MS,
        socketIo: true,
      };
      return await feedAndMeasure(plan, setup, workload, (feeder) => ({
        name: 'socket.io',
        instances: [{ pid: peer.pid as number, port }],
        helpers: { feeder: feeder.pid as number, redis: redis.pid },
        async serverSide(): Promise<ServerSide> {
          const answer = nextMessage<FromPeer, 'stats'>(peer, 'stats');
          peer.send({ type: 'stats' } satisfies StatsRequest);
          const { stats } = await answer;
          return {
            connections: stats.connections,
            drops: null,
            extra: { ...stats, feeder: await feederStats(feeder) },
          };
        },
      }));
    } finally {
      await stopChild(peer, { type: 'stop' } satisfies StatsRequest);
    }
  } finally {
    await redis.stop();
  }
}

async function runFloor(
  dist: string,
  setup: WorkloadSetup,
  profileDir: string | undefined,
): Promise<TargetResult> {
  const plan: FloorPlan = {
    ...setup.traffic,
    dist,
    tickMs: TICK_MS,
    epsIntervalMs: EPS_INTERVAL_MS,
  };
  const redis = setup.floorFed ? await startRedis() : undefined;
  try {
    const floor = forkBench(
      setup.floor,
      redis ? { ...plan, redisUrl: redis.url } : plan,
      profiling(profileDir),
    );
    try {
      const { port } = await nextMessage<FromFloor, 'listening'>(floor, 'listening');
      const target = (helpers: Record<string, number>): Target => ({
        name: 'floor',
        instances: [{ pid: floor.pid as number, port }],
        helpers,
        async serverSide(): Promise<ServerSide> {
          const answer = nextMessage<FromFloor, 'stats'>(floor, 'stats');
          floor.send({ type: 'stats' } satisfies StatsRequest);
          const { stats } = await answer;
          return { connections: stats.connections, drops: null, extra: { ...stats } };
        },
      });
      if (redis) {
        const feederPlan: FeederPlan = { ...plan, redis: { url: redis.url } };
        return await feedAndMeasure(feederPlan, setup, setup.workload, (feeder) =>
          target({ feeder: feeder.pid as number, redis: redis.pid }),
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
      return await measure(target({}), setup.workload);
    } finally {
      await stopChild(floor, { type: 'stop' } satisfies StatsRequest);
    }
  } finally {
    await redis?.stop();
  }
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), startNodeArgs(join(ROOT, 'package.json')));
  if (!args) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const dist = args.dist ? resolve(args.dist) : join(ROOT, 'dist');
  if (args.build) ensureBuilt();
  const startedAt = new Date().toISOString();
  const host = {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadavgAtStart: loadavg(),
  };
  buildChildren();
  const setup = await setUpWorkload(args, dist);
  const profileRoot = args.cpuProf
    ? join(RESULTS, 'profiles', startedAt.replace(/[:.]/g, '-'))
    : undefined;

  process.stderr.write(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  const common = {
    startedAt,
    args,
    description: setup.description,
    revision: revisionOf(dist),
    host,
  };
  if (args.workload === 'recovery') {
    const recovery = await runRecovery(dist, args, setup.traffic, [
      ...args.nodeArgs,
      ...profiling(profileRoot && join(profileRoot, 'rx')),
    ]);
    const profiles = profileRoot ? profileSummaries(join(profileRoot, 'rx'), 'rx') : undefined;
    const result: RecoveryBenchResult = { ...common, recovery, ...(profiles ? { profiles } : {}) };
    process.stdout.write(`\n${formatRecoveryTable(result)}\n`);
    process.stdout.write(`\nresult: ${writeResult(RESULTS, result)}\n`);
    return;
  }
  if (args.workload === 'publish') {
    const paths: PublishResult['paths'] = {};
    for (const path of args.paths) {
      process.stderr.write(`publish path: ${path}\n`);
      paths[path] = await runServer(
        dist,
        args,
        publishPathSetup(setup, path),
        profileRoot && join(profileRoot, `rx-${path}`),
      );
    }
    const profiles: Record<string, ProfileSummary> = {};
    if (profileRoot)
      for (const path of args.paths)
        Object.assign(profiles, profileSummaries(join(profileRoot, `rx-${path}`), `rx-${path}`));
    const result: PublishResult = { ...common, paths, ...(profileRoot ? { profiles } : {}) };
    process.stdout.write(`\n${formatPublishTable(result)}\n`);
    process.stdout.write(`\nresult: ${writeResult(RESULTS, result)}\n`);
    return;
  }
  const rx = await runServer(dist, args, setup, profileRoot && join(profileRoot, 'rx'));
  const floor = args.floor
    ? await runFloor(dist, setup, profileRoot && join(profileRoot, 'floor'))
    : undefined;
  // The peer runs as one Socket.IO server on one Redis: nothing like several
  // instances on a cluster. The floor (one process, no Redis) still compares.
  const spread = args.redis !== 'single' || args.instances > 1;
  const notes = [
    ...(floor && spread ? ['the floor is one process with its traffic in-process (no Redis)'] : []),
    ...(args.peer && setup.peer && spread
      ? ['the Socket.IO peer is not run with --redis cluster or sharded, or --instances > 1']
      : []),
  ];
  const peer =
    args.peer && setup.peer && !spread
      ? await runPeer(dist, setup, setup.peer, profileRoot && join(profileRoot, 'socket.io'))
      : undefined;
  process.stderr.write(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );

  const profiles = profileRoot
    ? {
        ...profileSummaries(join(profileRoot, 'rx'), 'rx'),
        ...profileSummaries(join(profileRoot, 'floor'), 'floor'),
        ...profileSummaries(join(profileRoot, 'socket.io'), 'socket.io'),
      }
    : undefined;
  const result: BenchResult = {
    startedAt,
    args,
    description: setup.description,
    revision: revisionOf(dist),
    host,
    rx,
    floor,
    ...(peer ? { peer } : {}),
    ...(notes.length > 0 ? { notes } : {}),
    ...(profiles ? { profiles } : {}),
  };
  process.stdout.write(`\n${formatTable(result)}\n`);
  process.stdout.write(`\nresult: ${writeResult(RESULTS, result)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
