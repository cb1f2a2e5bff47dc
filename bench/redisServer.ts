// A throwaway redis-server for one benchmark run, on a free port, without
// persistence; and the free-port probe the other processes use too.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';

export interface BenchRedis {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once a PING over a raw socket gets +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString('latin1').startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** A redis-server that keeps nothing on disk and says only what goes wrong. */
export const EPHEMERAL = ['--save', '', '--appendonly', 'no', '--loglevel', 'warning'] as const;

export function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

/**
 * Starts a redis-server without persistence on `port` and resolves once it answers
 * PING; rejects, naming the package, when it cannot start. The test suite's
 * servers are started the same way.
 */
export async function spawnRedisServer(port: number): Promise<ChildProcess> {
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', ...EPHEMERAL],
    { stdio: 'ignore' },
  );
  const failed = new Promise<never>((_, reject) => {
    proc.once('error', (err) =>
      reject(new Error(`redis-server could not start (${err.message}); install redis-server`)),
    );
    proc.once('exit', (code) => reject(new Error(`redis-server exited with code ${code}`)));
  });
  const ready = (async () => {
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer`);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await Promise.race([ready, failed]);
  failed.catch(() => undefined);
  return proc;
}

export async function startRedis(): Promise<BenchRedis> {
  const port = await freePort();
  const proc = await spawnRedisServer(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: proc.pid as number,
    async stop() {
      proc.kill('SIGTERM');
      await exited(proc);
    },
  };
}
