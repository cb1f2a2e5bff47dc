// Runs the server as a real process (node on src/main.ts through tsx, or the
// built dist/main.js), reads its JSON log lines and waits for it to listen.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** Every stdout line so far, parsed (the server logs JSON only). */
  logs(): LogLine[];
  stderr(): string;
  /** Resolves with how the process ended. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills it hard if it is still running (for test teardown). */
  stop(): Promise<void>;
}

export async function startServerProcess(
  env: Record<string, string>,
  options: { built?: boolean; timeoutMs?: number; nodeArgs?: readonly string[] } = {},
): Promise<ServerProcess> {
  const built = options.built ?? false;
  const entry = built ? 'dist/main.js' : 'src/main.ts';
  if (built && !existsSync(`${ROOT}${entry}`))
    throw new Error(`${entry} is missing: run \`npm run build\` first`);
  const args = [...(options.nodeArgs ?? []), ...(built ? [entry] : ['--import', 'tsx', entry])];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  let stderr = '';
  let partial = '';
  type Exit = { code: number | null; signal: NodeJS.Signals | null };
  let exit: Exit | undefined;
  const exitWaiters: ((e: Exit) => void)[] = [];
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (!line.trim()) continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ level: 'unparsed', message: line });
      }
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  child.once('exit', (code, signal) => {
    exit = { code, signal };
    for (const w of exitWaiters.splice(0)) w(exit);
  });
  const exited = (): Promise<Exit> =>
    exit ? Promise.resolve(exit) : new Promise<Exit>((r) => exitWaiters.push(r));

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let port: number | undefined;
  while (port === undefined) {
    const line = logs.find((l) => typeof l.port === 'number' && l.message.includes('listening'));
    if (line) port = line.port as number;
    else if (exit) throw new Error(`server exited (${exit.code ?? exit.signal}): ${stderr}`);
    else if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start listening: ${stderr}`);
    } else await new Promise((r) => setTimeout(r, 25));
  }
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    logs: () => logs,
    stderr: () => stderr,
    exited,
    async stop() {
      if (exit) return;
      child.kill('SIGKILL');
      await exited();
    },
  };
}

/**
 * One server process for a test file, on a free port of 127.0.0.1 and logging at
 * info: started before the file's tests and stopped after; call the result for it.
 */
export function serverForFile(env: Record<string, string>): () => ServerProcess {
  let server: ServerProcess | undefined;
  beforeAll(async () => {
    server = await startServerProcess({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('the server process has not started');
    return server;
  };
}
