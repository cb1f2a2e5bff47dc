// The docs check: every shell block of README.md and docs/*.md is either run
// here, as written, against real servers, or says why not. The convention
// (also in docs/architecture.md):
//   ```sh runnable        run against a server on a real Redis
//   ```sh runnable demo   run against a server on the embedded bus with its demo feeds
//   <!-- not runnable: <reason> -->   just before any other sh block
// A block runs in `bash -eo pipefail` from the repository's root, with `RX` the
// server's base URL (the docs show `RX=http://localhost:8001` once), `REDIS_URL`
// its Redis, `PUBLISH_API_KEY`, `DATASTREAM_API_KEY` and `ADMIN_TOKEN` the keys
// it was started with, and two stand-ins first on PATH: `redis-cli`, which
// reaches the test's Redis, and `curl`, which fails on an HTTP error unless the
// block asks for the status (-i, -I, -w) and takes a stream that ends by its own
// --max-time as a success. Also checked: every relative link and image resolves,
// and docs/configuration.md lists every variable the configuration schemas read.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess } from '../support/process.js';
import type { ServerProcess } from '../support/process.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { cleanCheckout } from '../support/checkout.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const KEYS = {
  PUBLISH_API_KEY: 'docs-check-publish-key',
  DATASTREAM_API_KEY: 'docs-check-datastream-key',
  ADMIN_TOKEN: 'docs-check-admin-token',
};

interface Block {
  readonly file: string;
  readonly line: number;
  readonly lang: string;
  readonly info: string;
  readonly code: string;
  /** The `<!-- not runnable: … -->` reason on the line before, if any. */
  readonly excuse: string | undefined;
}

/** The fenced blocks of a Markdown file, with their info strings and line numbers. */
function blocks(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})(.*)$/.exec(lines[i] ?? '');
    if (!open) continue;
    const [, indent = '', fence = '', info = ''] = open;
    const end = lines.findIndex((l, j) => j > i && l.trim() === fence);
    const body = lines.slice(i + 1, end).map((l) => l.slice(indent.length));
    let k = i - 1;
    while (k > 0 && lines[k]?.trim() === '') k--;
    const before = lines[k]?.trim() ?? '';
    found.push({
      file,
      line: i + 1,
      lang: info.trim().split(/\s+/)[0] ?? '',
      info: info.trim(),
      code: body.join('\n'),
      excuse: /^<!-- not runnable: (.+) -->$/.exec(before)?.[1],
    });
    i = end;
  }
  return found;
}

const SHELL = new Set(['sh', 'bash', 'shell', 'console']);
const all = DOCS.flatMap(blocks);
const shell = all.filter((b) => SHELL.has(b.lang));
const runnable = shell.filter((b) => /^\S+ runnable\b/.test(b.info));
const where = (b: Block) => `${b.file}:${b.line}`;

/** Stand-ins for redis-cli and curl, first on PATH (see the header). */
function shims(dir: string, redisPort: number): void {
  const real = (name: string) =>
    (process.env.PATH ?? '')
      .split(':')
      .map((d) => join(d, name))
      .find((p) => existsSync(p)) ?? name;
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), 0o755);
  };
  write('redis-cli', `#!/bin/sh\nexec ${real('redis-cli')} -p ${redisPort} "$@"\n`);
  write(
    'curl',
    `#!/bin/bash
shows=0; bounded=0
for a in "$@"; do case "$a" in
  -i|-I|--head|--include|-w|--write-out|-[a-zA-Z]*[iIw]) shows=1 ;;
  -m|--max-time|-[a-zA-Z]*m) bounded=1 ;;
esac; done
if [ $shows = 0 ]; then set -- --fail-with-body "$@"; fi
${real('curl')} "$@"; rc=$?
if [ $rc = 28 ] && [ $bounded = 1 ]; then exit 0; fi
exit $rc
`,
  );
}

function run(block: Block, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'bash',
      ['-eo', 'pipefail', '-c', block.code],
      { cwd: ROOT, env, timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err)
          reject(new Error(`${where(block)} failed (${err.message}):\n${stdout}\n${stderr}`));
        else resolve(stdout);
      },
    );
    child.stdin?.end();
  });
}

describe('the shell blocks', () => {
  it('are each run here, or say why not', () => {
    const unmarked = shell.filter((b) => !runnable.includes(b) && !b.excuse).map(where);
    expect(unmarked).toEqual([]);
    expect(runnable.length).toBeGreaterThan(20);
  });

  let redis: TestRedis;
  let onRedis: ServerProcess;
  let demo: ServerProcess;
  let work: string;
  beforeAll(async () => {
    redis = await startRedis();
    work = mkdtempSync(join(tmpdir(), 'rxs-docs-'));
    shims(work, redis.port);
    const common = { PORT: '0', HOST: '127.0.0.1', ...KEYS };
    [onRedis, demo] = await Promise.all([
      startServerProcess({ ...common, REDIS_URL: redis.url, STATUS_HASH: 'true' }),
      startServerProcess(common),
    ]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([onRedis?.stop(), demo?.stop()]);
    await redis?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const env = (server: ServerProcess): Record<string, string> => ({
    PATH: `${work}:${process.env.PATH ?? ''}`,
    HOME: process.env.HOME ?? '',
    RX: server.url,
    REDIS_URL: redis.url,
    ...KEYS,
  });

  it.each(runnable.map((b) => [where(b), b] as const))(
    '%s runs',
    async (_, block) => {
      const server = /\bdemo\b/.test(block.info) ? demo : onRedis;
      await run(block, env(server));
    },
    120_000,
  );
});

it('`npm start` builds the server and serves', async () => {
  // In a copy: its build must not rewrite the dist/ other tests are running.
  const project = cleanCheckout();
  const child = spawn('npm', ['start'], {
    cwd: project,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', REDIS_URL: '' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /"rx-streamer listening on (http:\/\/[^"]+)"/.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`npm start exited ${code}:\n${out}`)));
    });
    const res = await fetch(new URL('/healthz', url));
    expect(await res.json()).toEqual({ status: 'OK' });
  } finally {
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
    rmSync(dirname(project), { recursive: true, force: true });
  }
}, 120_000);

/** The lines of a Markdown file outside its fenced blocks. */
function prose(file: string): string {
  let fence: string | undefined;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => {
      const mark = /^\s*(`{3,})/.exec(line)?.[1];
      if (mark && (fence === undefined || mark === fence)) {
        fence = fence === undefined ? mark : undefined;
        return false;
      }
      return fence === undefined;
    })
    .join('\n');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as dashes. */
function anchors(file: string): Set<string> {
  return new Set(
    [...prose(file).matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
      (m[1] ?? '')
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replaceAll(' ', '-'),
    ),
  );
}

it('links and images resolve, anchors included', () => {
  const broken: string[] = [];
  for (const file of DOCS) {
    for (const [, target = ''] of prose(join(ROOT, file)).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [path = '', anchor] = target.split('#');
      const full = path === '' ? join(ROOT, file) : resolve(dirname(join(ROOT, file)), path);
      if (!existsSync(full)) broken.push(`${file}: ${target}`);
      else if (anchor && full.endsWith('.md') && !anchors(full).has(anchor))
        broken.push(`${file}: ${target} (no such heading)`);
    }
  }
  expect(broken).toEqual([]);
});

it('docs/configuration.md lists every variable the configuration reads', () => {
  const sources = [
    'src/core/config.ts',
    ...['emojitrack', 'notifications', 'pubsub', 'datastream'].map(
      (p) => `src/protocols/${p}/config.ts`,
    ),
  ];
  const variables = sources.flatMap((f) =>
    [...readFileSync(join(ROOT, f), 'utf8').matchAll(/^ {2,4}([A-Z][A-Z0-9_]+): /gm)].map(
      (m) => m[1] ?? '',
    ),
  );
  expect(variables.length).toBeGreaterThan(80);
  const table = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
  // Set by the cluster primary for its workers, not by hand.
  const internal = new Set(['RXS_WORKER_SLOT']);
  const missing = variables.filter(
    (v) => !internal.has(v) && !new RegExp(`^\\| \`${v}\``, 'm').test(table),
  );
  expect(missing).toEqual([]);
});
