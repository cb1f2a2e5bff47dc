// The Socket.IO peer measured: on its own Redis, fed through its emitter by the
// same feeder, with the node options it is given (the server's, or node's
// defaults when the table says so).
import { forkBench, nextMessage, stopChild } from './children.js';
import { feedAndMeasure, feederStats, TICK_MS } from './feedAndMeasure.js';
import type { FeederPlan, FromPeer, PeerPlan, StatsRequest } from './ipc.js';
import type { ServerSide, TargetResult, Workload } from './measure.js';
import { startRedis } from './redisServer.js';
import { PING_MS } from './workloads.js';
import type { WorkloadSetup } from './workloads.js';

export async function runPeer(
  dist: string,
  setup: WorkloadSetup,
  workload: Workload,
  name: string,
  execArgv: string[],
): Promise<TargetResult> {
  const redis = await startRedis();
  try {
    const peerPlan: PeerPlan = { redisUrl: redis.url, pingMs: PING_MS };
    const peer = forkBench('socketioPeer', peerPlan, execArgv);
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
        name,
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
