// Runs the shipped deploy/nginx.conf in a real nginx for a test: the file as it
// is, but for its listen port and its upstream ports, included from a main
// config of the test's own (pid, logs and temp files in a temp dir, workers as
// the current user), on a free port of 127.0.0.1. Independent of any nginx the
// machine runs as a service.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis.js';

export const DEPLOY_CONFIG = new URL('../../deploy/nginx.conf', import.meta.url);

/** The ports deploy/nginx.conf ships with: its listen port and its upstream instances. */
const SHIPPED = { listen: 'listen 80;', upstreams: ['127.0.0.1:8001', '127.0.0.1:8002'] };

/** Whether an `nginx` binary is on PATH (Debian's package puts it in /usr/sbin). */
export function nginxInstalled(): boolean {
  return spawnSync('nginx', ['-v'], { env: nginxEnv() }).error === undefined;
}

function nginxEnv(): NodeJS.ProcessEnv {
  const path = process.env.PATH ?? '';
  return { ...process.env, PATH: path.includes('/usr/sbin') ? path : `${path}:/usr/sbin` };
}

/**
 * Replaces `from` where it is the one uncommented line holding it, or throws: the
 * shipped file must keep what the test swaps.
 */
export function replaceOnce(text: string, from: string, to: string): string {
  const lines = text.split('\n');
  const at = lines.flatMap((line, i) =>
    line.includes(from) && !line.trimStart().startsWith('#') ? [i] : [],
  );
  if (at.length !== 1)
    throw new Error(
      `deploy/nginx.conf has ${at.length} lines with ${JSON.stringify(from)}, expected one`,
    );
  const i = at[0] as number;
  lines[i] = (lines[i] as string).replace(from, to);
  return lines.join('\n');
}

/** deploy/nginx.conf with only its ports swapped, then any test-specific edit. */
export function renderDeployConfig(
  listenPort: number,
  upstreamPorts: readonly [number, number],
  edit: (config: string) => string = (c) => c,
): string {
  let config = readFileSync(DEPLOY_CONFIG, 'utf8');
  config = replaceOnce(config, SHIPPED.listen, `listen 127.0.0.1:${listenPort};`);
  for (const [i, upstream] of SHIPPED.upstreams.entries())
    config = replaceOnce(config, `server ${upstream} `, `server 127.0.0.1:${upstreamPorts[i]} `);
  return edit(config);
}

export interface TestNginx {
  readonly port: number;
  readonly url: string;
  /** nginx's error log so far (it goes to stderr). */
  errors(): string;
  /** The access log so far: one `<status> <upstream addresses> <request>` line per request. */
  access(): string[];
  stop(): Promise<void>;
}

/** Starts nginx with the rendered deploy config in front of the given instances. */
export async function startNginx(
  upstreamPorts: readonly [number, number],
  edit?: (config: string) => string,
): Promise<TestNginx> {
  if (!nginxInstalled())
    throw new Error('nginx is not installed: scripts/setup.sh installs it (apt-get install nginx)');
  const port = await freePort();
  const config = renderDeployConfig(port, upstreamPorts, edit);
  const dir = mkdtempSync(join(tmpdir(), 'rx-nginx-'));
  writeFileSync(join(dir, 'rx-streamer.conf'), config);
  // As root, nginx would run its workers as `nobody`, which cannot enter this
  // private temp dir: run them as root, the user the test already is.
  const root = process.getuid?.() === 0;
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      root ? 'user root root;' : '',
      'worker_processes 1;',
      'events { worker_connections 4096; }',
      'http {',
      `  log_format rx '$status $upstream_addr "$request"';`,
      `  access_log ${join(dir, 'access.log')} rx;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (t) => `  ${t}_temp_path ${join(dir, t)};`,
      ),
      `  include ${join(dir, 'rx-streamer.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    'nginx',
    [
      '-p',
      dir,
      '-c',
      join(dir, 'nginx.conf'),
      '-e',
      'stderr',
      '-g',
      `daemon off; pid ${join(dir, 'nginx.pid')}; error_log stderr notice;`,
    ],
    // Its own process group, so that teardown can reach the worker too.
    { env: nginxEnv(), stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let stderr = '';
  child.once('error', (err) => (stderr += String(err)));
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let running = true;
  void exited.then(() => (running = false));

  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (!running || Date.now() > deadline) {
      killGroup(child);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nginx did not start on ${port}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    errors: () => stderr,
    access: () => {
      try {
        return readFileSync(join(dir, 'access.log'), 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    },
    async stop() {
      if (running) {
        // SIGTERM is nginx's fast shutdown: it closes every connection at once.
        child.kill('SIGTERM');
        const timer = setTimeout(() => killGroup(child), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
