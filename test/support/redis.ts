// Starts a real redis-server on a free port for a test file, and stops it after.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

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

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function assertInstalled(): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    throw new Error(
      'redis-server is not installed: the integration tests need it (Debian/Ubuntu: apt-get install redis-server)',
    );
  }
}

async function waitReady(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return;
    } catch {
      probe.disconnect();
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export async function startRedis(): Promise<TestRedis> {
  assertInstalled();
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const clients: Redis[] = [];
  const launch = async () => {
    proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: 'ignore' },
    );
    await waitReady(port);
  };
  const kill = async (hard = false) => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(hard ? 'SIGKILL' : 'SIGTERM');
    });
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
