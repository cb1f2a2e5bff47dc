// Starts a real redis-server on a free port for a test file, and stops it after.
// The server is launched exactly as the benchmark launches its own.
import { spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { exited, freePort, spawnRedisServer } from '../../bench/redisServer.js';

export { freePort };

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** A fresh command connection (closed by stop()). */
  client(): Redis;
  /** Kills the server (SIGKILL when `hard`) and waits for it to exit. */
  kill(hard?: boolean): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function assertInstalled(): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    throw new Error(
      'redis-server is not installed: the integration tests need it (Debian/Ubuntu: apt-get install redis-server)',
    );
  }
}

export async function startRedis(): Promise<TestRedis> {
  assertInstalled();
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const clients: Redis[] = [];
  const launch = async () => {
    proc = await spawnRedisServer(port);
  };
  const kill = async (hard = false) => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    p.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited(p);
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client() {
      const c = new Redis({ port, host: '127.0.0.1' });
      // Tests restart the server on purpose: reconnecting is expected, not an error.
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    },
    kill,
    restart: launch,
    async stop() {
      for (const c of clients) c.disconnect();
      await kill();
    },
  };
}
