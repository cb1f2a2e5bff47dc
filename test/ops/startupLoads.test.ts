// The server loads what its configuration and its clients use and nothing
// else: the protocol modules PROTOCOLS names, ws with the first WebSocket
// handshake and sockjs with the first SockJS request, hot-shots only with
// STATSD_HOST, prom-client only with METRICS_PROCESS, pg only with DATABASE_URL.
// Checked on the real process, by the packages it had loaded.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startServerProcess } from '../support/process.js';
import type { ServerProcess } from '../support/process.js';
import { openWs } from '../support/ws.js';

const TRACKER = fileURLToPath(new URL('../support/loadedPackages.js', import.meta.url));
const OPTIONAL = ['hot-shots', 'pg', 'prom-client', 'sockjs', 'ws'];

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

type Visit = (server: ServerProcess) => Promise<void>;

/** A GET that must answer 200. */
const get =
  (path: string): Visit =>
  async (s) =>
    expect((await fetch(`${s.url}${path}`)).status).toBe(200);

/** A WebSocket handshake that must succeed; the client leaves at once. */
const handshake =
  (path: string): Visit =>
  async (s) =>
    (await openWs(`${s.url.replace(/^http/, 'ws')}${path}`)).close();

/** The optional packages a server started with `env` (on the embedded bus) had loaded after `visits`. */
async function optionalLoaded(env: Record<string, string>, ...visits: Visit[]): Promise<string[]> {
  server = await startServerProcess(
    { PORT: '0', HOST: '127.0.0.1', NODE_NAME: 'loads', ...env },
    { nodeArgs: ['--import', TRACKER] },
  );
  for (const visit of visits) await visit(server);
  server.child.kill('SIGTERM');
  expect((await server.exited()).code).toBe(0);
  const line = /^loaded packages: (.*)$/m.exec(server.stderr());
  expect(line, server.stderr()).not.toBeNull();
  const loaded = (line?.[1] ?? '').split(',');
  // The check itself: packages every server loads are seen.
  expect(loaded).toEqual(expect.arrayContaining(['express', 'ioredis', 'winston']));
  return OPTIONAL.filter((name) => loaded.includes(name));
}

describe('what a server loads', () => {
  it('serving emojitrack alone: none of the optional packages', async () => {
    expect(await optionalLoaded({ PROTOCOLS: 'emojitrack' }, get('/api/scores'))).toEqual([]);
  });

  it('serving every protocol, before any WebSocket or SockJS client: neither ws nor sockjs', async () => {
    expect(await optionalLoaded({}, get('/api/scores'))).toEqual([]);
  });

  it('serving every protocol: sockjs with a SockJS request, ws with a WebSocket handshake', async () => {
    expect(await optionalLoaded({}, get('/pubsub/info'))).toEqual(['sockjs']);
    expect(await optionalLoaded({}, handshake('/pubsub'))).toEqual(['ws']);
  });

  it('with STATSD_HOST and METRICS_PROCESS: hot-shots and prom-client', async () => {
    expect(
      await optionalLoaded(
        { PROTOCOLS: 'emojitrack', STATSD_HOST: '127.0.0.1', METRICS_PROCESS: 'true' },
        get('/metrics'),
      ),
    ).toEqual(['hot-shots', 'prom-client']);
  });
});
