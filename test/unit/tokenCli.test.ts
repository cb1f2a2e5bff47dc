// The token CLI as a person runs it: a real tsx process, TOKEN_SECRET from its
// environment, the token alone on stdout's last line and exit 2 for bad input.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { verifyToken } from '../../src/protocols/notifications/token.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const secret = 'cli-test-secret-0123456789abcdef';

/** Runs the CLI with `args` and, over the test's environment less TOKEN_SECRET, `env`. */
function token(args: string[], env: Record<string, string> = {}) {
  const base = { ...process.env };
  delete base.TOKEN_SECRET;
  const run = spawnSync('npx', ['tsx', 'src/cli/token.ts', ...args], {
    cwd: root,
    env: { ...base, ...env },
    encoding: 'utf8',
    timeout: 25_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

// Each test spawns tsx, which takes about a second and more on a loaded machine.
describe('npm run token', { timeout: 30_000 }, () => {
  it('prints a token for the user that verifies with the secret', () => {
    const started = Date.now();
    const run = token(['--user', '42', '--ttl', '60'], { TOKEN_SECRET: secret });
    expect(run.stderr).toMatch(/token for user 42, expires \d{4}-\d\d-\d\dT/);
    expect(run.status).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const check = verifyToken(lines.at(-1), '42', secret);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.expiresAt).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000 + 60_000);
    expect(check.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(verifyToken(lines.at(-1), '43', secret)).toEqual({ ok: false, reason: 'forged' });
  });

  it('exits 2 when TOKEN_SECRET is not set', () => {
    const run = token(['--user', '42']);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      "token: TOKEN_SECRET is not set: tokens are made with the server's secret",
    );
  });

  it('refuses a TOKEN_SECRET the server would refuse, naming it', () => {
    const run = token(['--user', '42'], { TOKEN_SECRET: 'too-short-xyz' });
    expect(run.status).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^token: TOKEN_SECRET=.* is not valid: expected .*16 characters/);
    // Not even a wrong secret is shown.
    expect(run.stderr).not.toContain('too-short-xyz');
  });

  it('exits 2 with the usage when --user is missing', () => {
    const run = token(['--ttl', '60'], { TOKEN_SECRET: secret });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^token: --user is required\nusage: npm run token/);
  });

  it.each([
    ['a bad user id', ['--user', 'a.b']],
    ['a zero ttl', ['--user', '42', '--ttl', '0']],
    ['a fractional ttl', ['--user', '42', '--ttl', '1.5']],
    ['an unknown option', ['--user', '42', '--secret', 'x']],
  ])('exits 2 with the usage for %s', (_, args) => {
    const run = token(args, { TOKEN_SECRET: secret });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^token: .*\nusage: npm run token/);
  });

  it('prints the usage for --help', () => {
    const run = token(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run token -- --user ID/);
  });
});
