// `npm run publish:message` as a person runs it: a real tsx process against a real
// redis-server, the position alone on stdout's last line, the message kept in
// the channel's history under it (and PUBLISHed live), the server's HISTORY_*
// and REDIS_URL as defaults, exit 2 with one line for bad arguments. And the
// docs/history.md's script for other languages, held to the one the server runs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyKeys } from '../../src/sources/channelHistory.js';
import { RedisHistory } from '../../src/sources/RedisHistory.js';
import { untagged } from '../../src/core/position.js';
import { runCli } from '../support/cli.js';
import type { CliRun } from '../support/cli.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** `npm run publish:message` with `args` and, over the test's environment less the server's variables, `env`. */
const publishCli = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
  runCli('publish', args, env, 25_000);

/** The position printed on stdout's last line. */
function position(run: CliRun): { channel: string; epoch: string; offset: number } {
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const lines = run.stdout.trimEnd().split('\n');
  return JSON.parse(lines.at(-1) as string) as { channel: string; epoch: string; offset: number };
}

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

// Each test spawns tsx, which takes about a second and more on a loaded machine.
describe('npm run publish:message', { timeout: 60_000 }, () => {
  it('publishes with history: the position printed, the message kept and sent live', async () => {
    const live = redis.client();
    const received: string[] = [];
    live.on('message', (_channel: string, message: string) => received.push(message));
    await live.subscribe('pubsub:cli');

    const first = position(
      await publishCli(['--channel', 'pubsub:cli', '--data', '"hi"', '--redis', redis.url]),
    );
    expect(first).toEqual({
      channel: 'pubsub:cli',
      epoch: expect.any(String) as string,
      offset: 1,
    });
    const second = position(
      await publishCli(['--channel', 'pubsub:cli', '--data', '{"n":2}', '--redis', redis.url]),
    );
    expect(second).toEqual({ ...first, offset: 2 });

    // A JSON string is kept as the string itself, other JSON as its text.
    const history = new RedisHistory(redis.client(), { size: 100, ttlS: 300 });
    expect(await history.recover('pubsub:cli', { epoch: first.epoch, offset: 0 }, 10)).toEqual({
      recovered: true,
      top: { epoch: first.epoch, offset: 2 },
      publications: [
        { offset: 1, payload: 'hi' },
        { offset: 2, payload: '{"n":2}' },
      ],
    });
    await expect.poll(() => received.length).toBe(2);
    expect(received.map(untagged)).toEqual([
      { position: { epoch: first.epoch, offset: 1 }, payload: 'hi' },
      { position: { epoch: first.epoch, offset: 2 }, payload: '{"n":2}' },
    ]);
  });

  it('keeps --size messages for --ttl seconds', async () => {
    const args = ['--channel', 'room:sized', '--redis', redis.url, '--size', '2', '--ttl', '60'];
    for (const n of [1, 2, 3]) position(await publishCli([...args, '--data', String(n)]));
    const c = redis.client();
    const { meta, stream } = historyKeys('room:sized');
    const kept = await c.xrange(stream, '-', '+');
    expect(kept.map(([id, fields]) => [id, fields[1]])).toEqual([
      ['2-0', '2'],
      ['3-0', '3'],
    ]);
    const ttl = await c.ttl(stream);
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);
    // The epoch and offset outlive the history, so a late client is told it is unrecovered.
    expect(await c.ttl(meta)).toBeGreaterThan(60);
  });

  it('takes REDIS_URL, HISTORY_SIZE and HISTORY_TTL_S as the server does', async () => {
    const env = { REDIS_URL: redis.url, HISTORY_SIZE: '1', HISTORY_TTL_S: '30' };
    for (const n of [1, 2])
      position(await publishCli(['--channel', 'room:env', '--data', `${n}`], env));
    const c = redis.client();
    const { stream } = historyKeys('room:env');
    expect(await c.xrange(stream, '-', '+')).toEqual([['2-0', ['p', '2']]]);
    expect(await c.ttl(stream)).toBeLessThanOrEqual(30);
  });

  it.each([
    ['no --channel', ['--data', '1'], /^publish: --channel is required\n/],
    ['no --data', ['--channel', 'a'], /^publish: --data is required/],
    [
      '--data that is not JSON',
      ['--channel', 'a', '--data', 'hi'],
      /^publish: --data must be JSON/,
    ],
    [
      'a glob in the channel',
      ['--channel', 'room:*', '--data', '1'],
      /^publish: --channel must be/,
    ],
    ['a zero --size', ['--channel', 'a', '--data', '1', '--size', '0'], /^publish: --size must be/],
    [
      'a fractional --ttl',
      ['--channel', 'a', '--data', '1', '--ttl', '1.5'],
      /^publish: --ttl must be/,
    ],
    [
      'a --redis that is not a Redis URL',
      ['--channel', 'a', '--data', '1', '--redis', 'http://u:secret@h'],
      /^publish: --redis must be a URL starting with redis:\/\/ .*"http:\/\/u:\*\*\*@h"\n/,
    ],
    [
      'an unknown option',
      ['--channel', 'a', '--data', '1', '--pass', 'x'],
      /^publish: Unknown option '--pass'/,
    ],
  ])('exits 2 with one line and the usage for %s', async (_, args, message) => {
    const run = await publishCli(args, { REDIS_URL: redis.url });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr.split('\n')[1]).toMatch(/^usage: npm run publish:message -- /);
    expect(run.stderr).not.toContain('secret');
  });

  it('refuses a message larger than WS_MAX_FRAME_BYTES, as POST /api/publish does', async () => {
    const run = await publishCli(['--channel', 'a', '--data', `"${'x'.repeat(100)}"`], {
      REDIS_URL: redis.url,
      WS_MAX_FRAME_BYTES: '64',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^publish: --data has 100 bytes: a message has at most 64 /);
  });

  it('names a server variable the server would refuse', async () => {
    const run = await publishCli(['--channel', 'a', '--data', '1'], { HISTORY_SIZE: 'lots' });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      'publish: HISTORY_SIZE="lots" is not valid: expected a whole number from 1 to 100000\n',
    );
  });

  it('is not a script `npm publish` runs: its name is not a lifecycle event', () => {
    const { scripts } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(scripts['publish:message']).toBe('tsx src/cli/publish.ts');
    expect(Object.keys(scripts).filter((name) => /^(pre|post)?publish(Only)?$/.test(name))).toEqual(
      [],
    );
  });

  it('exits 1 with one line, the password hidden, when Redis cannot be reached', async () => {
    const run = await publishCli([
      '--channel',
      'a',
      '--data',
      '1',
      '--redis',
      'redis://user:secret@127.0.0.1:1',
    ]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'publish: redis://user:***@127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1\n',
    );
  });
});

describe("docs/history.md's script for publishing from other languages", () => {
  const guide = readFileSync(`${root}docs/history.md`, 'utf8');
  const section = guide.slice(guide.indexOf('**From other languages**'));
  const documented = /```lua\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const indent = /^ */.exec(documented)?.[0].length ?? 0;
  const lua = documented
    .split('\n')
    .map((line) => line.slice(indent))
    .join('\n')
    .trim();

  it('is the script publish() runs', () => {
    const source = readFileSync(`${root}src/sources/RedisHistory.ts`, 'utf8');
    const script = /const PUBLISH = `([\s\S]*?)`;/.exec(source)?.[1] ?? '';
    // The template literal escapes the record separator's backslash.
    expect(lua).toBe(script.replaceAll('\\\\', '\\').trim());
  });

  it('publishes with history when run with EVAL as docs/history.md runs it', async () => {
    const c = redis.client();
    const { meta, stream } = historyKeys('room:eval');
    const args = ['room:eval', '{"text":"hi"}', 100, 300, 86400, 'cafe0123'];
    expect(await c.eval(lua, 2, meta, stream, ...args)).toEqual(['cafe0123', 1]);
    const history = new RedisHistory(redis.client(), { size: 100, ttlS: 300 });
    expect(await history.recover('room:eval', { epoch: 'cafe0123', offset: 0 }, 10)).toEqual({
      recovered: true,
      top: { epoch: 'cafe0123', offset: 1 },
      publications: [{ offset: 1, payload: '{"text":"hi"}' }],
    });
  });
});
