// Starting and stopping the benchmark's processes: the forked children (clients,
// feeder, floor) that talk over IPC, and the server from the build output. The
// children run as plain JavaScript, transpiled once per run, so no TypeScript
// loader (and its helper process) sits in the trees being measured. Every process
// started here is remembered and killed by its id on exit.
import { fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { ROOT } from './demo.js';
import type { RedisPlan } from './ipc.js';
import { exited, freePort } from './redisServer.js';

const BENCH = fileURLToPath(new URL('.', import.meta.url));
/** Under bench/results/, which git ignores; inside the repository so node_modules resolves. */
const BUILD = join(ROOT, 'bench', 'results', '.build');

const started = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
});

function remember(child: ChildProcess): ChildProcess {
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}

/** Transpiles bench/*.ts (types only erased, imports already end in .js) for the children. */
export function buildChildren(): void {
  mkdirSync(BUILD, { recursive: true });
  for (const name of readdirSync(BENCH).filter((f) => f.endsWith('.ts'))) {
    const { outputText } = ts.transpileModule(readFileSync(join(BENCH, name), 'utf8'), {
      fileName: name,
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(join(BUILD, name.replace(/\.ts$/, '.js')), outputText);
  }
}

/** Forks a child built by buildChildren() (`clients`, `feeder`, `floor`, `notifyFloor`) with its plan. */
export function forkBench(name: string, plan: unknown, execArgv: string[] = []): ChildProcess {
  return remember(
    fork(join(BUILD, `${name}.js`), [JSON.stringify(plan)], {
      cwd: ROOT,
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
}

/** The child's next message of the given type. */
export function nextMessage<M extends { readonly type: string }, T extends M['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs = 30_000,
): Promise<Extract<M, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no "${type}" from process ${child.pid} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: M) => {
      if (message.type !== type) return;
      cleanup();
      resolve(message as Extract<M, { type: T }>);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`process ${child.pid} exited (code ${code}) before sending "${type}"`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Asks a child to stop, and kills it if it has not exited after `graceMs`. */
export async function stopChild(
  child: ChildProcess,
  message: unknown,
  graceMs = 5_000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (message !== undefined && child.connected) child.send(message as object);
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

export interface ServerProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly port: number;
  /** Output lines that matched `countPattern`. */
  matched(): number;
  /** The last lines the server printed, for error messages. */
  tail(): string;
}

export interface ServerOptions {
  /** The build output to run: its main.js. */
  readonly dist: string;
  readonly redis: RedisPlan;
  /** NODE_NAME: `bench` unless given (one per instance when there are several). */
  readonly nodeName?: string;
  readonly workers: number;
  readonly nodeArgs: readonly string[];
  /** Lines counted in the server's output, e.g. its slow-client warnings. */
  readonly countPattern: RegExp;
  /** Settings the workload adds. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts dist/main.js with production settings and waits until it answers HTTP. */
export async function startServer(options: ServerOptions): Promise<ServerProcess> {
  const port = await freePort();
  const { redis } = options;
  const proc = remember(
    spawn(process.execPath, [...options.nodeArgs, join(options.dist, 'main.js')], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        // The workloads' clients are anonymous, as they are against the floors and peers.
        PUBLIC_PROTOCOLS: 'notifications,pubsub,datastream',
        // Exactly one of the two, whatever the runner's own environment holds.
        ...('url' in redis
          ? { REDIS_URL: redis.url, REDIS_CLUSTER_NODES: undefined }
          : {
              REDIS_URL: undefined,
              REDIS_CLUSTER_NODES: redis.seeds,
              REDIS_SHARDED_CHANNELS: redis.sharded.join(','),
            }),
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        KEEPALIVE_MS: '600000',
        NODE_NAME: options.nodeName ?? 'bench',
        WORKERS: String(options.workers),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const lines: string[] = [];
  let matched = 0;
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      if (options.countPattern.test(line)) matched++;
      lines.push(line);
      if (lines.length > 40) lines.shift();
    }
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  const tail = () => lines.join('\n');
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the server exited at start:\n${tail()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/admin/status.json`);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`the server did not answer on ${port}:\n${tail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, pid: proc.pid as number, port, matched: () => matched, tail };
}
