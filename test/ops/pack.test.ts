// The package as a user installs it: `npm pack` on a copy of the project without
// dist/ (the prepare script builds it), the tarball installed into an empty app,
// the types checked from there, and docs/library.md's hooks example run from that app
// against a real redis-server, with a real WebSocket client and the logs it prints.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { isControl, isMessage, openWs } from '../support/ws.js';
import { cleanCheckout } from '../support/checkout.js';
import { runCommand } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');
/** Every browser client beside the server's pages, whichever exist. */
const CLIENTS = readdirSync(join(ROOT, 'public', 'clients'))
  .filter((f) => f.endsWith('.js'))
  .map((f) => f.slice(0, -'.js'.length));

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment less what `npm run`/`npm test` sets for its own scripts: a
 * nested npm must install into the app, not the project it was started from.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    const own = /^npm_/i.test(name) && !/^npm_config_(registry|cache|userconfig)$/i.test(name);
    if (!own && name !== 'INIT_CWD') env[name] = value;
  }
  return env;
}

/** Runs a command to its end, killed after `timeoutMs`. */
function run(command: string, args: readonly string[], cwd: string, timeoutMs: number) {
  return runCommand(command, args, { cwd, env: cleanEnv(), timeoutMs });
}

function succeeded(what: string, result: Run): Run {
  if (result.status !== 0) {
    throw new Error(`${what} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/** docs/library.md's `createStreamer` example with hooks: the ts block with both calls. */
function hooksExample(): string {
  const guide = readFileSync(join(ROOT, 'docs/library.md'), 'utf8');
  const blocks = [...guide.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
  const example = blocks.find(
    (b) => b.includes('pubsubProtocol({') && b.includes('createStreamer('),
  );
  if (!example)
    throw new Error('docs/library.md has no ts example with pubsubProtocol and createStreamer');
  return example;
}

/** The app: an ES module package, strict TypeScript for Node and the browser. */
const APP: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'app', private: true, type: 'module' }),
  'tsconfig.json': JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2023', 'DOM'],
      types: ['node'],
      strict: true,
      skipLibCheck: false,
    },
    include: ['*.ts'],
  }),
  'check.ts': `
import { createLogger, createStreamer, loadConfig, MemoryBus, silentLogger } from 'rx-streamer';
import type { Logger, Streamer } from 'rx-streamer';
import { connect } from 'rx-streamer/client/pubsub';
import type { PubsubClient } from 'rx-streamer/client/pubsub';
import { connect as follow } from 'rx-streamer/client/datastream';
import { reconnectingSocket, socketUrl } from 'rx-streamer/client/reconnecting';

export function server(quiet: boolean): Streamer {
  const logger: Logger = quiet ? silentLogger : createLogger('debug', { app: 'check' });
  const streamer = createStreamer({ config: loadConfig({}), source: new MemoryBus(), logger });
  // @ts-expect-error: an express app has no such method (so not any)
  streamer.app.noSuchMethod();
  return streamer;
}

export function browser(): PubsubClient {
  const client = connect('/pubsub');
  client.subscribe('room.1');
  // @ts-expect-error: a channel is a string
  client.subscribe(1);
  follow('/datastream', { site: 'a' }).on('message', ({ site }) => site.toUpperCase());
  reconnectingSocket(socketUrl('/x'));
  return client;
}
`,
};

let work: string;
let app: string;
let packed: string[];
let typeCheck: Run;
let redis: TestRedis;
const started: ChildProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  work = mkdtempSync(join(tmpdir(), 'rx-streamer-pack-'));
  // A clean checkout: no dist/, so the tarball has what prepare built.
  const project = cleanCheckout(work);
  const pack = succeeded(
    'npm pack',
    await run('npm', ['pack', '--json', '--pack-destination', work], project, 120_000),
  );
  const [manifest] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as {
    filename: string;
    files: { path: string }[];
  }[];
  if (!manifest) throw new Error(`npm pack printed no manifest:\n${pack.stdout}`);
  packed = manifest.files.map((f) => f.path);

  app = join(work, 'app');
  mkdirSync(app);
  for (const [name, text] of Object.entries(APP)) writeFileSync(join(app, name), text);
  writeFileSync(join(app, 'server.ts'), hooksExample());
  const devDependencies = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    }
  ).devDependencies;
  succeeded(
    'npm install',
    await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        join(work, manifest.filename),
        // What a TypeScript app on Node has already; rx-streamer's types build on it.
        `@types/node@${devDependencies['@types/node']}`,
      ],
      app,
      180_000,
    ),
  );
  // Checks the types and emits server.js, the example the tests below run.
  typeCheck = await run(TSC, ['-p', '.'], app, 120_000);
}, 360_000);

afterAll(async () => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
  await redis?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds the build with its types, every browser client and the guides, and no sources', () => {
    expect(packed).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'LICENSE',
        // The guides the README links to, so the links resolve in an installed copy.
        ...readdirSync(join(ROOT, 'docs'))
          .filter((f) => f.endsWith('.md'))
          .map((f) => `docs/${f}`),
        'dist/index.js',
        'dist/index.d.ts',
        'dist/main.js',
        ...CLIENTS.map((c) => `public/clients/${c}.js`),
        ...['pubsub', 'datastream', 'reconnecting'].map((c) => `public/clients/${c}.d.ts`),
      ]),
    );
    expect(packed.filter((p) => /^(src|test|bench|scripts)\//.test(p))).toEqual([]);
  });

  it('is importable from the app: the library and each client subpath', async () => {
    const probe = `
      const lib = await import('rx-streamer');
      const clients = {};
      for (const name of ${JSON.stringify(CLIENTS)}) {
        clients[name] = import.meta.resolve('rx-streamer/client/' + name);
      }
      const pubsub = await import('rx-streamer/client/pubsub');
      const datastream = await import('rx-streamer/client/datastream');
      const reconnecting = await import('rx-streamer/client/reconnecting');
      console.log(JSON.stringify({
        createStreamer: typeof lib.createStreamer,
        createLogger: typeof lib.createLogger,
        clients,
        connect: [typeof pubsub.connect, typeof datastream.connect],
        reconnectingSocket: typeof reconnecting.reconnectingSocket,
      }));
    `;
    const result = succeeded(
      'the import probe',
      await run(process.execPath, ['--input-type=module', '-e', probe], app, 30_000),
    );
    const seen = JSON.parse(result.stdout) as {
      createStreamer: string;
      createLogger: string;
      clients: Record<string, string>;
      connect: string[];
      reconnectingSocket: string;
    };
    expect(seen).toMatchObject({
      createStreamer: 'function',
      createLogger: 'function',
      connect: ['function', 'function'],
      reconnectingSocket: 'function',
    });
    for (const name of CLIENTS) {
      expect(seen.clients[name]).toMatch(
        new RegExp(`/node_modules/rx-streamer/public/clients/${name}\\.js$`),
      );
    }
  });

  it("type-checks an app using the library, the client subpaths and docs/library.md's example", () => {
    // skipLibCheck is off so that the package's own declarations are checked too;
    // only other packages' (ioredis's, which name an untyped module) are let through.
    const errors = typeCheck.stdout
      .split('\n')
      .filter((line) => /error TS\d+/.test(line))
      .filter((line) => !/^node_modules\/(?!rx-streamer\/)/.test(line));
    expect(errors).toEqual([]);
  });
});

/** Starts the compiled docs/library.md example with `env`, collecting what it prints. */
async function startExample(env: Record<string, string>) {
  const port = await freePort();
  const child = spawn(process.execPath, ['server.js'], {
    cwd: app,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: `${port}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  /** Resolves once /readyz answers 200; throws with what it printed if it exits or takes 15 s. */
  const ready = async () => {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break;
      const status = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the example did not get ready:\n${stdout}\n${stderr}`);
  };
  const logs = () =>
    stdout
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as { level: string; message: string; node?: string });
  return { port, child, ready, logs, stderr: () => stderr };
}

describe(
  "docs/library.md's hooks example, run from the installed package",
  { timeout: 60_000 },
  () => {
    it('serves its hooks over a real WebSocket and logs at info by default', async () => {
      const example = await startExample({ REDIS_URL: redis.url, NODE_NAME: 'packed' });
      await example.ready();
      const client = await openWs(`ws://127.0.0.1:${example.port}/pubsub`);
      try {
        client.send({ action: 'subscribe', payload: { channel: 'news.1' } });
        await client.next(isControl('Subscribed to news.1'), 5_000, 'the subscription');
        await redis.client().publish('pubsub:news.1', '{"text":"from redis"}');
        await client.next(isMessage('news.1', { text: 'from redis' }), 5_000, 'the message');

        // The example's hooks: chat.* only for signed-in sessions, elsewhere read-only.
        client.send({ action: 'subscribe', payload: { channel: 'chat.lobby' } });
        await client.next(isControl(/chat\.lobby/, true), 5_000, 'the refusal');
        client.send({ action: 'publish', payload: { channel: 'news.1', message: 'hi' } });
        await client.next(isControl(/news\.1/, true), 5_000, 'the refused publish');
        // Its receiver answers with the ids its openings hook kept: this client's.
        client.send({ type: 'who' });
        await client.next((f) => Array.isArray(f) && f.length === 1, 5_000, 'the who answer');
      } finally {
        client.close();
      }

      const listening = example.logs().find((l) => l.message.includes('listening'));
      expect(listening).toMatchObject({
        level: 'info',
        message: `rx-streamer listening on http://localhost:${example.port}/`,
        node: 'packed',
      });
      expect(example.stderr()).toBe('');
    });

    it('honours LOG_LEVEL: at warn, no info lines', async () => {
      const example = await startExample({ REDIS_URL: redis.url, LOG_LEVEL: 'warn' });
      await example.ready();
      // The listening line is written before /readyz can answer; give stdout a moment.
      await new Promise((r) => setTimeout(r, 200));
      expect(example.logs().filter((l) => l.level === 'info')).toEqual([]);
    });
  },
);
