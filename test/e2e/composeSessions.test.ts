// docs/library.md's WebSocket protocol, run as written (the test checks that the
// guide shows it as it is): one endpoint, served by the transports over a
// plain WebSocket and over SockJS on each of its transports (sockjs-client in
// Node), with the handshake check answered the way each transport can.
import { readFileSync } from 'node:fs';
import SockJS from 'sockjs-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

// --- docs/library.md: WebSocket protocol ---
import { StreamerError, defineProtocol, envSchema, urlPath } from '../../src/index.js';

/** Echoes each message back, numbered per client, at /echo (WebSocket) and /echo/ (SockJS). */
export const echo = defineProtocol({
  name: 'echo',
  config: envSchema({ ECHO_PATH: urlPath('/echo') }, (e) => ({ path: e.ECHO_PATH })),
  start({ sessions, hub, metrics }, { path }) {
    let echoed = 0;
    metrics.counter('echo.messages', 'Messages echoed', () => echoed);
    sessions.serve(path, {
      accept: (request) =>
        request.query.has('name')
          ? undefined
          : new StreamerError('RXS_ERR_BAD_REQUEST', `${path} needs ?name=`, 400),
      connect(session) {
        let count = 0;
        session.sendText(JSON.stringify({ hello: session.request.query.get('name') }));
        return {
          message(frame) {
            if (typeof frame !== 'string') return session.close(1003, 'text frames only');
            echoed++;
            session.sendText(JSON.stringify({ n: ++count, echo: frame }));
          },
        };
      },
    });
    return { status: () => ({ echo_clients: hub.sessionCount(path) }) };
  },
});
// ---

import { MemoryBus, createStreamer, loadConfig } from '../../src/index.js';
import type { Streamer } from '../../src/index.js';

let streamer: Streamer;
let port: number;

beforeAll(async () => {
  streamer = createStreamer({
    config: loadConfig({ PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'test' }),
    source: new MemoryBus(),
    protocols: [echo],
  });
  port = (await streamer.listen()).port;
});

afterAll(async () => {
  await streamer.close();
});

it('is the code docs/library.md shows', () => {
  const here = readFileSync(new URL(import.meta.url), 'utf8');
  const example = /\/\/ --- docs\/library\.md: WebSocket protocol ---\n([\s\S]*?)\n\/\/ ---\n/.exec(
    here,
  )?.[1];
  const readme = readFileSync(new URL('../../docs/library.md', import.meta.url), 'utf8');
  expect(example).toBeDefined();
  expect(readme).toContain(example?.replaceAll("'../../src/index.js'", "'rx-streamer'"));
});

/** Opens a client, sends two messages, and resolves with what it got once it has three. */
function converse(
  open: (got: (text: string) => void) => (text: string) => void,
): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const got: unknown[] = [];
    const timer = setTimeout(
      () => reject(new Error(`timed out with ${JSON.stringify(got)}`)),
      5_000,
    );
    const send = open((text) => {
      got.push(JSON.parse(text));
      if (got.length === 1) {
        send('one');
        send('two');
      }
      if (got.length === 3) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

const CONVERSATION = [{ hello: 'ann' }, { n: 1, echo: 'one' }, { n: 2, echo: 'two' }];

it('works over a plain WebSocket', async () => {
  let ws: WebSocket | undefined;
  const got = await converse((receive) => {
    ws = new WebSocket(`ws://127.0.0.1:${port}/echo?name=ann`);
    ws.on('message', (data: Buffer) => receive(data.toString()));
    return (text) => ws?.send(text);
  });
  expect(got).toEqual(CONVERSATION);
  expect(streamer.protocols.get('echo')?.status?.()).toEqual({ echo_clients: 1 });
  ws?.close();
});

it('refuses a WebSocket handshake without ?name= with a 400 and the JSON error', async () => {
  const refused = await new Promise<{ status: number; body: string }>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`);
    ws.on('unexpected-response', (_req, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    ws.on('error', () => undefined);
  });
  expect(refused.status).toBe(400);
  expect(JSON.parse(refused.body)).toMatchObject({
    code: 'RXS_ERR_BAD_REQUEST',
    message: '/echo needs ?name=',
  });
});

describe.each(['websocket', 'xhr-streaming', 'xhr-polling'])('over SockJS (%s)', (transport) => {
  it('echoes, numbered, with the query reaching the protocol', async () => {
    let sock: SockJS | undefined;
    const got = await converse((receive) => {
      sock = new SockJS(`http://127.0.0.1:${port}/echo?name=ann`, null, { transports: transport });
      sock.onmessage = (e) => receive(e.data);
      return (text) => sock?.send(text);
    });
    expect(sock?.transport).toBe(transport);
    expect(got).toEqual(CONVERSATION);
    sock?.close();
  });

  it('is closed with 4400 and the reason without ?name=', async () => {
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
      const sock = new SockJS(`http://127.0.0.1:${port}/echo`, null, { transports: transport });
      sock.onclose = (e) => resolve({ code: e.code, reason: e.reason });
    });
    expect(closed).toEqual({ code: 4400, reason: '/echo needs ?name=' });
  });
});
