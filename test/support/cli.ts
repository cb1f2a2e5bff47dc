// Runs one of the project's CLIs (src/cli/<script>.ts) as a person would, a real
// tsx process, over the test's environment less the server's own variables, so a
// variable set for the suite cannot change what the command does.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The server's variables, never passed on from the test's environment. */
const SERVER_VARIABLES = [
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'REDIS_SHARDED_CHANNELS',
  'HISTORY_SIZE',
  'HISTORY_TTL_S',
  'WS_MAX_FRAME_BYTES',
];

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `src/cli/<script>.ts` with `args` and `env`; killed after `timeoutMs`. */
export function runCli(
  script: string,
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<CliRun> {
  const base = { ...process.env };
  for (const name of SERVER_VARIABLES) delete base[name];
  return runCommand(process.execPath, ['--import', 'tsx', `src/cli/${script}.ts`, ...args], {
    cwd: root,
    env: { ...base, ...env },
    timeoutMs,
  });
}

/** Runs a command to its end, its output collected; killed after `timeoutMs`. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { readonly cwd: string; readonly env: NodeJS.ProcessEnv; readonly timeoutMs: number },
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
