// A real six-node Redis Cluster (3 masters, 3 replicas) for a test file, started
// as the benchmark starts its own (bench/redisCluster.ts), with what tests ask of
// it besides: clients, which master serves a slot, and a master killed to force a
// failover.
import { Cluster, Redis } from 'ioredis';
import { startRedisCluster as startNodes, until } from '../../bench/redisCluster.js';

export interface TestRedisCluster {
  /** `127.0.0.1:<port>` of every node, for REDIS_CLUSTER_NODES. */
  readonly seeds: string;
  readonly ports: readonly number[];
  /** A fresh Cluster client (closed by stop()). */
  client(): Cluster;
  /** The port of the master serving `slot` now. */
  masterOf(slot: number): Promise<number>;
  /** SIGKILLs the node on `port` and waits until a replica has taken its slots over. */
  killMaster(port: number): Promise<void>;
  stop(): Promise<void>;
}

/** The master port for each slot range, from CLUSTER SLOTS on a live node. */
async function slotMasters(port: number): Promise<[number, number, number][]> {
  const c = new Redis({
    host: '127.0.0.1',
    port,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  c.on('error', () => undefined);
  try {
    const slots = await c.cluster('SLOTS');
    return slots.map(([from, to, master]): [number, number, number] => [
      from,
      to,
      master?.[1] ?? 0,
    ]);
  } finally {
    c.disconnect();
  }
}

export async function startRedisCluster(): Promise<TestRedisCluster> {
  const nodes = await startNodes();
  const clients: Cluster[] = [];
  const live = (): number => nodes.alive()[0] as number;
  return {
    seeds: nodes.seeds,
    ports: nodes.ports,
    client() {
      const c = new Cluster(
        nodes.alive().map((port) => ({ host: '127.0.0.1', port })),
        { shardedSubscribers: true },
      );
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    },
    async masterOf(slot) {
      const range = (await slotMasters(live())).find(([from, to]) => from <= slot && slot <= to);
      if (!range) throw new Error(`no master serves slot ${slot}`);
      return range[2];
    },
    async killMaster(port) {
      await nodes.kill(port);
      await until(`a replica taking over from ${port}`, async () => {
        const masters = await slotMasters(live());
        return masters.length > 0 && masters.every(([, , p]) => p !== port);
      });
      await nodes.settled();
    },
    async stop() {
      for (const c of clients) c.disconnect();
      await nodes.stop();
    },
  };
}
