// One target fed and measured: the feeder started on the target's Redis, the
// target measured by the clients over the window with the messages the feeder
// sent among its counters, and (datastream) the burst after the window. The
// server, the fed floor and the peer all go through here.
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { forkBench, nextMessage, stopChild } from './children.js';
import type { FeederPlan, FeedStats, FromFeeder, StatsRequest } from './ipc.js';
import { measure } from './measure.js';
import type { Target, TargetResult, Workload } from './measure.js';
import { burstAndDrain, queueLag } from './queueBurst.js';
import type { WorkloadSetup } from './workloads.js';

/** The feeder's and the floors' traffic clock. */
export const TICK_MS = 5;

/** Node options that profile a process into `dir` (none without one). */
export const profiling = (dir: string | undefined): string[] =>
  dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : [];

/** The feeder's counters, for a target's server-side figures. */
export async function feederStats(feeder: ChildProcess): Promise<FeedStats> {
  const stats = nextMessage<FromFeeder, 'stats'>(feeder, 'stats');
  feeder.send({ type: 'stats' } satisfies StatsRequest);
  return (await stats).stats;
}

/**
 * Starts the feeder on the plan's Redis, lets the target settle with traffic flowing
 * (before its memory is read), and measures it, with the messages the feeder
 * sent among the window's counters and, on datastream, the burst after it.
 */
export async function feedAndMeasure(
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
