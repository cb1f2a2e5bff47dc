// One floor measured: forked with the node options the server runs with, fed
// by its own generator in-process or (datastream) by a feeder on a Redis of its
// own, and measured by the same clients as the server.
import { forkBench, nextMessage, stopChild } from './children.js';
import { feedAndMeasure, TICK_MS } from './feedAndMeasure.js';
import type { FeederPlan, FloorPlan, FromFloor, StatsRequest } from './ipc.js';
import { measure } from './measure.js';
import type { ServerSide, Target, TargetResult } from './measure.js';
import { startRedis } from './redisServer.js';
import type { FloorRun, WorkloadSetup } from './workloads.js';

const EPS_INTERVAL_MS = 1000 / 60;

export async function runFloor(
  dist: string,
  setup: WorkloadSetup,
  floor: FloorRun,
  execArgv: string[],
): Promise<TargetResult> {
  const plan: FloorPlan = {
    ...setup.traffic,
    dist,
    tickMs: TICK_MS,
    epsIntervalMs: EPS_INTERVAL_MS,
    ...(floor.perMessage ? { perMessage: true } : {}),
  };
  const redis = setup.floorFed ? await startRedis() : undefined;
  try {
    const child = forkBench(floor.child, redis ? { ...plan, redisUrl: redis.url } : plan, execArgv);
    try {
      const { port } = await nextMessage<FromFloor, 'listening'>(child, 'listening');
      const target = (helpers: Record<string, number>): Target => ({
        name: floor.name,
        instances: [{ pid: child.pid as number, port }],
        helpers,
        async serverSide(): Promise<ServerSide> {
          const answer = nextMessage<FromFloor, 'stats'>(child, 'stats');
          child.send({ type: 'stats' } satisfies StatsRequest);
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
      await stopChild(child, { type: 'stop' } satisfies StatsRequest);
    }
  } finally {
    await redis?.stop();
  }
}
