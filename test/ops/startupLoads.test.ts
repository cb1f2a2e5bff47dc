// The server loads what its configuration uses and nothing else: the protocol
// modules PROTOCOLS names, ws and sockjs only where a protocol serves WebSocket
// and SockJS endpoints, hot-shots only with STATSD_HOST, prom-client only with
// METRICS_PROCESS, pg only with DATABASE_URL. Checked on the real process, by
// the packages it had loaded.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startServerProcess } from '../support/process.js';
import type { ServerProcess } from '../support/process.js';

const TRACKER = fileURLToPath(new URL('../support/loadedPackages.js', import.meta.url));
const OPTIONAL = ['hot-shots', 'pg', 'prom-client', 'sockjs', 'ws'];

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** The optional packages a server started with `env` (on the embedded bus) had loaded. */
async function optionalLoaded(env: Record<string, string>, visit?: string): Promise<string[]> {
  server = await startServerProcess(
    { PORT: '0', HOST: '127.0.0.1', NODE_NAME: 'loads', ...env },
    { nodeArgs: ['--import', TRACKER] },
  );
  if (visit) expect((await fetch(`${server.url}${visit}`)).status).toBe(200);
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
    expect(await optionalLoaded({ PROTOCOLS: 'emojitrack' }, '/api/scores')).toEqual([]);
  });

  it('serving every protocol: ws and sockjs, for the message protocols', async () => {
    expect(await optionalLoaded({}, '/pubsub/info')).toEqual(['sockjs', 'ws']);
  });

  it('with STATSD_HOST and METRICS_PROCESS: hot-shots and prom-client', async () => {
    expect(
      await optionalLoaded(
        { PROTOCOLS: 'emojitrack', STATSD_HOST: '127.0.0.1', METRICS_PROCESS: 'true' },
        '/metrics',
      ),
    ).toEqual(['hot-shots', 'prom-client']);
  });
});
