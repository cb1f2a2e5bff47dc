// Starts a real six-node Redis Cluster (3 masters, 3 replicas) on free ports for a
// test file, kills a master to force a failover, and stops it all after.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { exited } from '../../bench/redisServer.js';

const run = promisify(execFile);

export interface ClusterNode {
  readonly port: number;
  readonly proc: ChildProcess;
}

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

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    encoding: 'utf8',
  });
  return stdout;
}

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`redis cluster: ${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function spawnNode(port: number, dir: string): ChildProcess {
  return spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, `nodes-${port}.conf`),
      // A dead master is failed over after 1 s rather than the default 15 s.
      '--cluster-node-timeout',
      '1000',
      // An idle replica has not heard from its master for a while: let it take over anyway.
      '--cluster-replica-validity-factor',
      '0',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: 'ignore' },
  );
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
  const dir = await mkdtemp(join(tmpdir(), 'rxs-cluster-'));
  const ports: number[] = [];
  // Each node's cluster bus listens on its port + 10000. Both stay below the
  // ephemeral range (32768 up), where the nodes' own outgoing connections could
  // take a bus port before its node binds it.
  while (ports.length < 6) {
    const p = 20_000 + Math.floor(Math.random() * 2_700);
    if (
      ports.some((q) => Math.abs(q - p) < 1) ||
      !(await portFree(p)) ||
      !(await portFree(p + 10_000))
    )
      continue;
    ports.push(p);
  }
  const nodes = new Map<number, ChildProcess>();
  for (const port of ports) nodes.set(port, spawnNode(port, dir));
  await Promise.all(
    ports.map((p) => until(`node ${p} up`, async () => (await cli(p, 'ping')).startsWith('PONG'))),
  );
  await cli(
    ports[0] as number,
    '--cluster',
    'create',
    ...ports.map((p) => `127.0.0.1:${p}`),
    '--cluster-replicas',
    '1',
    '--cluster-yes',
  );
  const alive = () => ports.filter((p) => nodes.has(p));
  const allOk = () =>
    until('cluster_state:ok on every node', async () => {
      for (const p of alive())
        if (!(await cli(p, 'cluster', 'info')).includes('cluster_state:ok')) return false;
      return true;
    });
  await allOk();
  const clients: Cluster[] = [];
  const live = (): number => alive()[0] as number;
  return {
    seeds: ports.map((p) => `127.0.0.1:${p}`).join(','),
    ports,
    client() {
      const c = new Cluster(
        alive().map((port) => ({ host: '127.0.0.1', port })),
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
      const proc = nodes.get(port);
      if (!proc) throw new Error(`no node on port ${port}`);
      nodes.delete(port);
      proc.kill('SIGKILL');
      await exited(proc);
      await until(`a replica taking over from ${port}`, async () => {
        const masters = await slotMasters(live());
        return masters.length > 0 && masters.every(([, , p]) => p !== port);
      });
      await allOk();
    },
    async stop() {
      for (const c of clients) c.disconnect();
      await Promise.all(
        [...nodes.values()].map(async (proc) => {
          proc.kill('SIGKILL');
          await exited(proc);
        }),
      );
      nodes.clear();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
