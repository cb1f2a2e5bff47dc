// A real six-node Redis Cluster (3 masters, 3 replicas) on free ports, without
// persistence: the benchmark's `--redis cluster` and `sharded` runs, and the test
// suite's cluster (test/support/redisCluster.ts adds its probes and failovers).
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EPHEMERAL, exited } from './redisServer.js';

const run = promisify(execFile);

export interface BenchRedisCluster {
  /** `127.0.0.1:<port>` of every node, for REDIS_CLUSTER_NODES. */
  readonly seeds: string;
  readonly ports: readonly number[];
  /** The ports of the nodes still running. */
  alive(): number[];
  /** The process ids of the nodes still running (for their CPU). */
  pids(): number[];
  /** SIGKILLs the node on `port` and waits for it to exit (a failover is the caller's to wait for). */
  kill(port: number): Promise<void>;
  /** Resolves once every node still running says `cluster_state:ok`. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    encoding: 'utf8',
  });
  return stdout;
}

/** Polls `check` every 100 ms until it holds; rejects, naming `what`, after `ms`. */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  ms = 20_000,
): Promise<void> {
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
      // Each node its own file: a replica renames its master's copy to it before
      // loading, and with one shared name a replica could load another master's copy.
      '--dbfilename',
      `dump-${port}.rdb`,
      // A replica's first copy goes at once, not 5 s later.
      '--repl-diskless-sync-delay',
      '0',
      ...EPHEMERAL,
    ],
    { stdio: 'ignore' },
  );
}

export async function startRedisCluster(): Promise<BenchRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'rxs-cluster-'));
  const ports: number[] = [];
  // Each node's cluster bus listens on its port + 10000. Both stay below the
  // ephemeral range (32768 up), where the nodes' own outgoing connections could
  // take a bus port before its node binds it.
  while (ports.length < 6) {
    const p = 20_000 + Math.floor(Math.random() * 2_700);
    if (ports.includes(p) || !(await portFree(p)) || !(await portFree(p + 10_000))) continue;
    ports.push(p);
  }
  const nodes = new Map<number, ChildProcess>();
  for (const port of ports) nodes.set(port, spawnNode(port, dir));
  const alive = () => ports.filter((p) => nodes.has(p));
  const stop = async () => {
    await Promise.all(
      [...nodes.values()].map(async (proc) => {
        proc.kill('SIGKILL');
        await exited(proc);
      }),
    );
    nodes.clear();
    await rm(dir, { recursive: true, force: true });
  };
  const settled = () =>
    until('cluster_state:ok on every node', async () => {
      for (const p of alive())
        if (!(await cli(p, 'cluster', 'info')).includes('cluster_state:ok')) return false;
      return true;
    });
  try {
    await Promise.all(
      ports.map((p) =>
        until(`node ${p} up`, async () => (await cli(p, 'ping')).startsWith('PONG')),
      ),
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
    await settled();
    // Every replica holds its master's copy before anything is written, so a master
    // killed later takes nothing with it.
    await until('every replica in sync with its master', async () => {
      const roles = await Promise.all(ports.map((p) => cli(p, 'info', 'replication')));
      const replicas = roles.filter((r) => r.includes('role:slave'));
      return replicas.length === 3 && replicas.every((r) => r.includes('master_link_status:up'));
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    seeds: ports.map((p) => `127.0.0.1:${p}`).join(','),
    ports,
    alive,
    pids: () => [...nodes.values()].map((proc) => proc.pid as number),
    async kill(port) {
      const proc = nodes.get(port);
      if (!proc) throw new Error(`no node on port ${port}`);
      nodes.delete(port);
      proc.kill('SIGKILL');
      await exited(proc);
    },
    settled,
    stop,
  };
}
