// What one WebSocket or SockJS client can make the server hold or do, against a
// real server process: a SockJS WebSocket client that stops reading is dropped
// like a plain one; SockJS sends over the message bound are refused with 413
// before sockjs buffers them; a batch of a quarter of a million messages is cut
// off at the per-client message rate; control replies count against the same
// bound as topic writes and echo no more than a short quote; SockJS sessions
// are counted by the client address behind a trusted proxy.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { serverForFile } from '../support/process.js';
import { waitUntil } from '../support/sse.js';
import { isControl, openWs } from '../support/ws.js';

const server = serverForFile({
  SSE_MAX_BUFFER_BYTES: '65536',
  SLOW_CLIENT_TIMEOUT_MS: '300',
  TRUST_PROXY: 'loopback',
  MAX_CONNECTIONS_PER_IP: '3',
  // The slow-reader tests flood through a client's publishes: not these bounds' business.
  PUBSUB_PUBLISH_RATE: '100000',
  PUBSUB_PUBLISH_BYTES_PER_S: '1073741824',
});

/** A masked client text frame (mask key 0: the payload goes as it is). */
function clientFrame(text: string): Buffer {
  const body = Buffer.from(text);
  const header =
    body.length < 126
      ? Buffer.from([0x81, 0x80 | body.length])
      : body.length < 0x10000
        ? Buffer.from([0x81, 0x80 | 126, body.length >> 8, body.length & 0xff])
        : (() => {
            const h = Buffer.alloc(10);
            h[0] = 0x81;
            h[1] = 0x80 | 127;
            h.writeBigUInt64BE(BigInt(body.length), 2);
            return h;
          })();
  return Buffer.concat([header, Buffer.alloc(4), body]);
}

/** A WebSocket client on a bare socket that reads its handshake answer and then nothing more. */
async function stalledWebSocket(path: string, forwardedFor = '198.51.100.99'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(server().port, '127.0.0.1', () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
          `X-Forwarded-For: ${forwardedFor}\r\n\r\n`,
      ),
    );
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (!head.startsWith('HTTP/1.1 101')) reject(new Error(head));
      socket.pause();
      resolve(socket);
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  });
}

const status = async () =>
  (await (await fetch(`${server().url}/admin/status.json`)).json()) as {
    connections: { namespace: string; client_ip: string }[];
    connections_total: number;
  };
const metric = async (name: string) => {
  const text = await (await fetch(`${server().url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
};
const sockJsClients = async () =>
  (await status()).connections.filter((c) => c.namespace === '/pubsub/ (sockjs)').length;

describe('a SockJS WebSocket client that stops reading', () => {
  it.each([
    ['framed', '/pubsub/000/stalled/websocket', (t: string) => JSON.stringify([t])],
    ['raw', '/pubsub/websocket', (t: string) => t],
  ])(
    'is dropped on the %s transport, while a reading client gets everything',
    async (_kind, path, wrap) => {
      const channel = `flood-${_kind}`;
      const stalled = await stalledWebSocket(path);
      stalled.write(
        clientFrame(wrap(JSON.stringify({ action: 'subscribe', payload: { channel } }))),
      );
      const reader = await openWs(`ws://127.0.0.1:${server().port}/pubsub`);
      reader.send({ action: 'subscribe', payload: { channel } });
      await reader.next(isControl(`Subscribed to ${channel}`));
      await waitUntil(
        async () => (await sockJsClients()) === 1,
        5_000,
        'the stalled client listed',
      );

      const text = 'x'.repeat(4_000);
      let sent = 0;
      await waitUntil(
        async () => {
          for (let i = 0; i < 20; i++)
            reader.send({ action: 'publish', payload: { channel, message: { n: sent++, text } } });
          await new Promise((r) => setTimeout(r, 20));
          return (await sockJsClients()) === 0;
        },
        20_000,
        'the stalled client dropped',
      );
      // It was held to about 4 × 64 KiB, not the megabytes sent.
      expect(sent * text.length).toBeGreaterThan(4 * 65_536);
      await reader.next((f) => (f as { message?: { n?: number } }).message?.n === sent - 1);
      reader.close();
      stalled.destroy();
    },
  );
});

describe('SockJS sends over the message bound', () => {
  it('are refused with 413 by their Content-Length, before sockjs reads them', async () => {
    const res = await fetch(`${server().url}/pubsub/000/nobody/xhr_send`, {
      method: 'POST',
      body: 'x'.repeat(1024 * 1024 + 1),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'RXS_ERR_TOO_LARGE' });
    expect((await fetch(`${server().url}/healthz`)).status).toBe(200);
  });

  it('are cut off with 413 once the bound has come, when streamed without a length', async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(server().port, '127.0.0.1', () => {
        socket.write(
          'POST /pubsub/000/nobody/xhr_send HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n',
        );
        const chunk = 'x'.repeat(64 * 1024);
        for (let i = 0; i < 20; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      });
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
  });
});

describe('messages per client', () => {
  it('a batch of 262,000 messages is cut off at WS_MAX_MESSAGES_PER_S, and the server serves on', async () => {
    const before = await metric('rx_streamer_pubsub_control_errors_total');
    const client = await openWs(`ws://127.0.0.1:${server().port}/pubsub/000/batch/websocket`);
    await client.next((f) => f === 'o');
    const batch = `[${new Array(262_000).fill('"x"').join(',')}]`;
    expect(batch.length).toBeLessThan(1024 * 1024);
    client.sendRaw(batch);
    await client.next(
      (f) => f === 'c[1008,"more than 1000 messages a second"]',
      10_000,
      'the close frame',
    );
    // About one control error per message it was allowed (the bucket refills a little meanwhile).
    expect((await metric('rx_streamer_pubsub_control_errors_total')) - before).toBeLessThan(1_200);
    expect((await fetch(`${server().url}/healthz`)).status).toBe(200);
  });
});

describe('control replies', () => {
  it('quote a client only briefly: what the server holds does not grow with what it sent', async () => {
    const reader = await openWs(`ws://127.0.0.1:${server().port}/pubsub`);
    reader.send({ action: 'a'.repeat(512 * 1024) });
    const reply = (await reader.next(isControl(/^unknown action/, true))) as { content: string };
    expect(reply.content.length).toBeLessThan(200);
    reader.close();
  });
});

describe('SockJS behind a trusted proxy', () => {
  const open = async (session: string, forwardedFor: string) => {
    const res = await fetch(`${server().url}/pubsub/000/${session}/xhr`, {
      method: 'POST',
      headers: { 'X-Forwarded-For': forwardedFor },
    });
    const first = await res.text();
    if (first !== 'o\n') return first;
    return (
      await fetch(`${server().url}/pubsub/000/${session}/xhr`, {
        method: 'POST',
        headers: { 'X-Forwarded-For': forwardedFor },
      })
    ).text();
  };

  it('counts sessions by the forwarded client address (MAX_CONNECTIONS_PER_IP)', async () => {
    const listed = async () =>
      (await status()).connections.filter((c) => c.client_ip === '192.0.2.*').length;
    // Each one's second poll waits for messages until the server stops.
    for (const i of [1, 2, 3]) open(`same${i}`, '192.0.2.10').catch(() => undefined);
    await waitUntil(async () => (await listed()) === 3, 5_000, 'three sessions listed');
    // The proxy's own address has room: a client behind it from another address gets in.
    open('other1', '192.0.2.20').catch(() => undefined);
    await waitUntil(async () => (await listed()) === 4, 5_000, 'the other address listed');
    expect(await open('same4', '192.0.2.10')).toMatch(/^c\[4503,/);
  });
});
