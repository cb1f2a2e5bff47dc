// Starts a private Postgres for a test file — its own data directory under the
// system's temp dir, its own free port, trust authentication — and removes it all
// after. Postgres refuses to run as root, so when the tests run as root (CI does)
// initdb and pg_ctl run as the `postgres` user the Debian package creates.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './redis.js';

const run = promisify(execFile);
const ROOT = '/usr/lib/postgresql';

export interface TestPostgres {
  readonly port: number;
  readonly url: string;
  /** A fresh, connected client (closed by stop()). */
  client(): Promise<pg.Client>;
  /** Stops the server (fast shutdown: sessions are cut) and starts it again on the same port. */
  restart(): Promise<void>;
  /** Stops the server at once and removes its directory. */
  stop(): Promise<void>;
}

/** The bin folder of the highest Postgres version installed. */
function binDir(): string {
  const versions = existsSync(ROOT)
    ? readdirSync(ROOT)
        .filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(join(ROOT, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) {
    throw new Error(
      `no Postgres server under ${ROOT}/<version>/bin: the Postgres tests need one (Debian/Ubuntu: apt-get install postgresql)`,
    );
  }
  return join(ROOT, newest, 'bin');
}

const asRoot = process.getuid?.() === 0;

/** Runs a Postgres program as the postgres user when we are root, as ourselves otherwise. */
async function runAsPostgres(cwd: string, program: string, args: string[]): Promise<void> {
  const [file, argv] = asRoot
    ? ['runuser', ['-u', 'postgres', '--', program, ...args]]
    : [program, args];
  try {
    await run(file, argv, { cwd, timeout: 60_000 });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${program} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}`);
  }
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = binDir();
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'rx-streamer-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'postgres.log');
  const clients: pg.Client[] = [];
  const pgCtl = (...args: string[]) =>
    runAsPostgres(dir, join(bin, 'pg_ctl'), ['-D', data, ...args]);
  // The socket goes in our own directory: the default one may not exist, or be another server's.
  // pg_ctl hands -o to a shell, hence the quotes. fsync off: the data is thrown away anyway.
  const options = `-p ${port} -k '${dir}' -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = async () => {
    try {
      await pgCtl('-o', options, '-l', log, '-w', 'start');
    } catch (err) {
      const tail = await readFile(log, 'utf8').catch(() => '');
      throw new Error(`${(err as Error).message}\n${tail.split('\n').slice(-20).join('\n')}`);
    }
  };
  const remove = () => rm(dir, { recursive: true, force: true });

  try {
    if (asRoot) await run('chown', ['postgres:postgres', dir]);
    // A fixed locale: the machine's may be one that is not generated, which initdb rejects.
    await runAsPostgres(dir, join(bin, 'initdb'), [
      '-D',
      data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    await start();
  } catch (err) {
    await remove();
    throw err;
  }

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    port,
    url,
    async client() {
      const c = new pg.Client({ connectionString: url });
      // Tests restart the server on purpose: a cut connection is expected, not an error.
      c.on('error', () => undefined);
      clients.push(c);
      await c.connect();
      return c;
    },
    async restart() {
      await pgCtl('-m', 'fast', '-w', 'stop');
      await start();
    },
    async stop() {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      // Already stopped (a failed restart) is fine: the directory goes either way.
      await pgCtl('-m', 'immediate', '-w', 'stop').catch(() => undefined);
      await remove();
    },
  };
}
