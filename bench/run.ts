// The benchmark runner (`npm run bench`): the server from the build output (on
// pubsub, as one or several instances, on one Redis or a Redis Cluster) on its
// own Redis with a feeder, then the floors (on datastream, reading their own
// Redis that the feeder fills), then (pubsub) the Socket.IO peer on its own
// Redis, every one with the server's node options unless the table says
// otherwise, all measured by the same clients over the same window, with
// (datastream) a burst after it; prints the table and writes the JSON under
// bench/results/.
import { existsSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseBenchArgs, startNodeArgs, USAGE } from './args.js';
import type { BenchArgs } from './args.js';
import { buildChildren } from './children.js';
import type { ServerProcess } from './children.js';
import { ensureBuilt, revisionOf } from './build.js';
import { ROOT } from './demo.js';
import { feedAndMeasure, feederStats, profiling, TICK_MS } from './feedAndMeasure.js';
import type { FeederPlan } from './ipc.js';
import type { TargetResult } from './measure.js';
import { serverTarget, startInstances, startServerRedis, stopInstances } from './serverTarget.js';
import { formatProfile, summarizeProfile } from './profileTop.js';
import type { ProfileSummary } from './profileTop.js';
import { formatTable, writeResult } from './report.js';
import type { BenchResult } from './report.js';
import { runFloor } from './runFloor.js';
import { runPeer } from './runPeer.js';
import { publishPathSetup, setUpWorkload } from './workloads.js';
import { formatPublishTable } from './publishReport.js';
import type { PublishResult } from './publishReport.js';
import { runRecovery } from './recovery.js';
import { formatRecoveryTable } from './recoveryReport.js';
import type { RecoveryBenchResult } from './recoveryReport.js';
import type { WorkloadSetup } from './workloads.js';

const RESULTS = join(ROOT, 'bench', 'results');
const SLOW_CLIENT_LOG = /slow client/i;
/** The peer's name in the table when it runs with node's default options. */
const PEER_DEFAULTS = 'socket.io (node defaults)';

/** A target's name as a directory name (`ws framed/msg` → `ws-framed-msg`). */
const slug = (name: string) => name.replace(/[^A-Za-z0-9.]+/g, '-').replace(/-$/, '');

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
        env: { ...setup.serverEnv, ...args.env },
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
  // Every other target runs with the server's node options, so that what V8's
  // settings buy is not counted as the design's; the peer once more with node's
  // own when asked, and named so.
  const execArgv = (name: string, nodeArgs: readonly string[] = args.nodeArgs) => [
    ...nodeArgs,
    ...profiling(profileRoot && join(profileRoot, slug(name))),
  ];
  const floors: TargetResult[] = [];
  if (args.floor)
    for (const floor of setup.floors)
      floors.push(await runFloor(dist, setup, floor, execArgv(floor.name)));
  // The peer runs as one Socket.IO server on one Redis: nothing like several
  // instances on a cluster. The floors (one process, no Redis) still compare.
  const spread = args.redis !== 'single' || args.instances > 1;
  const runsPeer = args.peer && setup.peer !== undefined && !spread;
  const notes = [
    ...(floors.length > 0 && spread
      ? ['the floors are one process each with their traffic in-process (no Redis)']
      : []),
    ...(args.peer && setup.peer && spread
      ? ['the Socket.IO peer is not run with --redis cluster or sharded, or --instances > 1']
      : []),
    ...(runsPeer && args.peerDefaultFlags
      ? [`${PEER_DEFAULTS}: the same peer run with no node options, not the server's`]
      : []),
  ];
  const peers: TargetResult[] = [];
  if (runsPeer && setup.peer) {
    peers.push(await runPeer(dist, setup, setup.peer, 'socket.io', execArgv('socket.io')));
    if (args.peerDefaultFlags)
      peers.push(
        await runPeer(dist, setup, setup.peer, PEER_DEFAULTS, execArgv(PEER_DEFAULTS, [])),
      );
  }
  process.stderr.write(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );

  let profiles: Record<string, ProfileSummary> | undefined;
  if (profileRoot) {
    profiles = {};
    for (const r of [rx, ...floors, ...peers])
      Object.assign(profiles, profileSummaries(join(profileRoot, slug(r.name)), r.name));
  }
  const result: BenchResult = {
    ...common,
    rx,
    floors,
    peers,
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
