// SockJS's WebSocket transports against a real server process: the raw one
// (`/pubsub/websocket`) and the framed one sockjs-client uses
// (`/pubsub/<server>/<session>/websocket`). An oversized message closes that
// client with 1009 and nothing else (it used to throw out of the message handler
// and end the process); a client still connected when the server is told to
// stop is told to come back (1001), and the process exits 0; a pre-RFC 6455
// handshake is refused.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startServerProcess } from '../support/process.js';
import type { ServerProcess } from '../support/process.js';
import { openSse } from '../support/sse.js';
import { isControl, isMessage, openWs } from '../support/ws.js';
import type { WsClient } from '../support/ws.js';

const MAX_FRAME = 1024 * 1024;
let server: ServerProcess | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const start = async (env: Record<string, string> = {}) => {
  server = await startServerProcess({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env });
  return server;
};

/** A SockJS framed-WebSocket client: sends `["…"]` arrays, reads `o`, `a[…]`, `h`, `c[…]`. */
async function openFramed(url: string): Promise<{ client: WsClient; messages: () => unknown[] }> {
  const client = await openWs(url);
  await client.next((f) => f === 'o', 5_000, 'the open frame');
  const messages = () =>
    client.received.flatMap((f) =>
      typeof f === 'string' && f.startsWith('a[')
        ? (JSON.parse(f.slice(1)) as string[]).map((m) => JSON.parse(m) as unknown)
        : [],
    );
  return { client, messages };
}

const alive = async (s: ServerProcess) => (await fetch(`${s.url}/healthz`)).status;

describe("SockJS's WebSocket transports", () => {
  it('closes a raw client that sends 1 MiB + 1 byte with 1009, and the server serves on', async () => {
    const s = await start();
    const bystander = await openWs(`ws://127.0.0.1:${s.port}/pubsub/websocket`);
    bystander.send({ action: 'subscribe', payload: { channel: 'calm' } });
    await bystander.next(isControl('Subscribed to calm'));

    const attacker = await openWs(`ws://127.0.0.1:${s.port}/pubsub/websocket`);
    attacker.sendRaw('x'.repeat(MAX_FRAME + 1));
    expect(await attacker.closed()).toBe(1009);

    expect(await alive(s)).toBe(200);
    const publisher = await openWs(`ws://127.0.0.1:${s.port}/pubsub`);
    publisher.send({ action: 'publish', payload: { channel: 'calm', message: 'still here' } });
    await bystander.next(isMessage('calm', 'still here'));
    expect(s.logs().filter((l) => l.level === 'error')).toEqual([]);
    bystander.close();
    publisher.close();
  });

  it('closes a framed client whose frame is over the bound with 1009, and no other', async () => {
    const s = await start();
    const bystander = await openFramed(`ws://127.0.0.1:${s.port}/pubsub/000/calm/websocket`);
    bystander.client.sendRaw(
      JSON.stringify([JSON.stringify({ action: 'subscribe', payload: { channel: 'calm' } })]),
    );
    await bystander.client.next(
      (f) => typeof f === 'string' && f.includes('Subscribed to calm'),
      5_000,
      'the subscribe acknowledgement',
    );

    const attacker = await openFramed(`ws://127.0.0.1:${s.port}/pubsub/000/big/websocket`);
    attacker.client.sendRaw(JSON.stringify(['x'.repeat(MAX_FRAME)]));
    expect(await attacker.client.closed()).toBe(1009);

    expect(await alive(s)).toBe(200);
    const publisher = await openWs(`ws://127.0.0.1:${s.port}/pubsub`);
    publisher.send({ action: 'publish', payload: { channel: 'calm', message: 'still here' } });
    await bystander.client.next(
      (f) => typeof f === 'string' && f.includes('still here'),
      5_000,
      'the message',
    );
    expect(bystander.messages()).toContainEqual({
      channel: 'calm',
      message: 'still here',
      offset: expect.any(Number) as number,
    });
    bystander.client.close();
    publisher.close();
  });

  it('a framed client that breaks the framing is closed with 3000 and the server serves on', async () => {
    const s = await start();
    const client = await openFramed(`ws://127.0.0.1:${s.port}/pubsub/000/broken/websocket`);
    client.client.sendRaw('{not json');
    await client.client.next((f) => f === 'c[3000,"Broken framing."]', 5_000, 'the close frame');
    expect(await client.client.closed()).toBe(1000);
    expect(await alive(s)).toBe(200);
  });

  it('SIGTERM with SockJS WebSocket clients connected: they are told to come back, exit 0', async () => {
    const s = await start();
    const raw = await openWs(`ws://127.0.0.1:${s.port}/pubsub/websocket`);
    const framed = await openFramed(`ws://127.0.0.1:${s.port}/pubsub/000/stay/websocket`);
    const sse = await openSse(`${s.url}/subscribe/raw`);
    await sse.waitFor((_events, text) => text.includes('data:'), 10_000);

    s.child.kill('SIGTERM');
    expect(await raw.closed()).toBe(1001);
    expect(await framed.client.closed()).toBe(1001);
    expect(framed.client.received).toContainEqual('c[1001,"server going away"]');
    await sse.ended();
    expect(sse.text()).toMatch(/retry:\d+\n\n$/);
    const exit = await s.exited();
    expect({ ...exit, stderr: s.stderr() }).toEqual({ code: 0, signal: null, stderr: '' });
  });

  it('closes a client whose fragments add up to more than the bound with 1009', async () => {
    const s = await start();
    const client = await openWs(`ws://127.0.0.1:${s.port}/pubsub/websocket`);
    // One-byte fragments, the costliest kind, until the message is one byte over.
    const piece = 'f'.repeat(4096);
    for (
      let sent = 0;
      sent <= MAX_FRAME && client.ws.readyState === client.ws.OPEN;
      sent += piece.length
    )
      client.ws.send(piece, { fin: false });
    expect(await client.closed()).toBe(1009);
    expect(await alive(s)).toBe(200);
  });

  it('drops a raw SockJS WebSocket client that answers no ping', async () => {
    const s = await start({ WS_PING_MS: '200' });
    const socket = await new Promise<import('node:net').Socket>((resolve) => {
      const c = connect(s.port, '127.0.0.1', () => {
        c.write(
          'GET /pubsub/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n' +
            'Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        );
        c.once('data', () => resolve(c));
      });
      c.on('error', () => undefined);
    });
    // It reads what comes, and never answers: a peer that is gone.
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.resume();
    await closed;
    expect(await alive(s)).toBe(200);
  });

  it('refuses a hixie-75 handshake (no key, no version) on the framed path', async () => {
    const s = await start();
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(s.port, '127.0.0.1', () =>
        socket.write(
          'GET /pubsub/000/old/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
            'Upgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n',
        ),
      );
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      setTimeout(() => {
        socket.destroy();
        resolve(text);
      }, 3_000);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    // Once refused, nothing of it is kept: the server still answers WebSocket clients.
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/pubsub/websocket`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.close();
  });
});
