// What the real process says when it cannot listen: a port the test holds
// open, an address that is not this machine's, a name that does not resolve.
// Each is one line on stderr naming PORT or HOST, and exit code 1, as a bad
// variable is, not a stack trace.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the server with `env` (no Redis: the embedded bus) until it exits; killed after 30 s. */
function runServer(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let held: Server;
let heldPort = 0;

beforeAll(async () => {
  held = createServer();
  await new Promise<void>((resolve) => held.listen({ port: 0, host: '127.0.0.1' }, resolve));
  heldPort = (held.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => held.close(() => resolve()));
});

/** The lines of stderr, the last newline dropped. */
const linesOf = (text: string) => text.replace(/\n$/, '').split('\n');

describe('when the server cannot listen', () => {
  it('a busy port: one line naming PORT and HOST, exit code 1', async () => {
    const run = await runServer({ PORT: String(heldPort), HOST: '127.0.0.1' });
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr)).toEqual([
      `rx-streamer: PORT=${heldPort} is already in use on HOST="127.0.0.1" (EADDRINUSE): stop what listens there, or set PORT to a free port (0 picks one)`,
    ]);
    expect(run.stdout).not.toContain('listening on');
  }, 60_000);

  it('a busy port under WORKERS: the same one line, from the primary', async () => {
    const run = await runServer({ PORT: String(heldPort), HOST: '127.0.0.1', WORKERS: '2' });
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr)).toEqual([
      `rx-streamer: PORT=${heldPort} is already in use on HOST="127.0.0.1" (EADDRINUSE): stop what listens there, or set PORT to a free port (0 picks one)`,
    ]);
  }, 60_000);

  it('an address that is not this machine’s: one line naming HOST', async () => {
    // TEST-NET-1 (RFC 5737): never an address of a real machine.
    const run = await runServer({ PORT: '0', HOST: '192.0.2.1' });
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr)).toEqual([
      'rx-streamer: HOST="192.0.2.1" is not an address of this machine (EADDRNOTAVAIL): set HOST to one of its addresses, or 0.0.0.0 for all of them',
    ]);
  }, 60_000);

  it('a host name that does not resolve: one line naming HOST', async () => {
    // `.invalid` never resolves (RFC 2606).
    const run = await runServer({ PORT: '0', HOST: 'no-such-host.invalid' });
    expect(run.code).toBe(1);
    const lines = linesOf(run.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^rx-streamer: HOST="no-such-host\.invalid" does not resolve to an address \((ENOTFOUND|EAI_AGAIN|EAI_NONAME)\): set HOST to an IP address or a name this machine resolves$/,
    );
  }, 60_000);
});
