// The two halves of sticky routing in one process, over real loopback sockets:
// the primary's door (routeConnections) reads a request line and no further,
// and bounds what it waits for; the worker's side (serveHandedConnections)
// serves a handed connection as if accepted, closes it after each response,
// refuses a request whose session lives elsewhere, enforces Node's timeouts,
// and lets close() drain what it was handed.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { serveHandedConnections } from '../../src/transports/http/handedConnections.js';
import type { HandedConnections } from '../../src/transports/http/handedConnections.js';
import { routeConnections } from '../../src/transports/http/routeConnections.js';
import type { ConnectionRouter } from '../../src/transports/http/routeConnections.js';
import { waitUntil } from '../support/sse.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Client {
  readonly socket: Socket;
  text(): string;
  closed(): Promise<void>;
}

function client(port: number): Client {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let text = '';
  let isClosed = false;
  const waiters: (() => void)[] = [];
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => {});
  socket.on('close', () => {
    isClosed = true;
    for (const w of waiters.splice(0)) w();
  });
  cleanups.push(() => socket.destroy());
  return {
    socket,
    text: () => text,
    closed: () => (isClosed ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
  };
}

describe('routeConnections', () => {
  interface Routed {
    socket: Socket;
    received: string;
    sessionId: string | undefined;
  }

  async function door(
    options: { lineTimeoutMs?: number; maxLineBytes?: number } = {},
  ): Promise<{ router: ConnectionRouter; routed: Routed[] }> {
    const routed: Routed[] = [];
    const router = await routeConnections({
      port: 0,
      host: '127.0.0.1',
      lineTimeoutMs: options.lineTimeoutMs ?? 5_000,
      maxLineBytes: options.maxLineBytes ?? 16_384,
      route: (socket, received, sessionId) => {
        cleanups.push(() => socket.destroy());
        routed.push({ socket, received: received.toString('latin1'), sessionId });
      },
    });
    cleanups.push(() => router.close());
    return { router, routed };
  }

  it('routes by the request line, with the session its target names and the bytes read', async () => {
    const { router, routed } = await door();
    const a = client(router.address.port);
    a.socket.write('POST /pubsub/000/abc/xhr_send HTTP/1.1\r\nHost: x\r\n');
    const b = client(router.address.port);
    // A request line in pieces.
    b.socket.write('GET /pub');
    await new Promise((r) => setTimeout(r, 20));
    b.socket.write('sub/info HTTP/1.1\r\n\r\n');
    await waitUntil(() => routed.length === 2);
    expect(routed.map((r) => [r.received, r.sessionId])).toEqual([
      ['POST /pubsub/000/abc/xhr_send HTTP/1.1\r\nHost: x\r\n', 'abc'],
      ['GET /pubsub/info HTTP/1.1\r\n\r\n', undefined],
    ]);
  });

  it('stops reading once routed: what comes next stays in the kernel for the next owner', async () => {
    // stopReading() uses the socket's private _handle: this pins that it holds.
    const { router, routed } = await door();
    const a = client(router.address.port);
    a.socket.write('POST /p/1/s/xhr_send HTTP/1.1\r\n');
    await waitUntil(() => routed.length === 1);
    const socket = (routed[0] as Routed).socket;
    let read = 0;
    socket.on('data', (d: Buffer) => (read += d.length));
    a.socket.write('Content-Length: 2\r\n\r\n[]');
    await new Promise((r) => setTimeout(r, 100));
    expect(read).toBe(0);
    expect(socket.readableLength).toBe(0);
  });

  it('answers a request line past the bound with 431 and closes', async () => {
    const { router, routed } = await door({ maxLineBytes: 1_024 });
    const a = client(router.address.port);
    a.socket.write(`GET /${'x'.repeat(2_000)}`);
    await a.closed();
    expect(a.text()).toMatch(/^HTTP\/1\.1 431 /);
    expect(routed).toEqual([]);
  });

  it('answers a request line that does not come in time with 408; closes a silent connection unanswered', async () => {
    const { router, routed } = await door({ lineTimeoutMs: 200 });
    const partial = client(router.address.port);
    partial.socket.write('GET /subscribe/e');
    const silent = client(router.address.port);
    const started = Date.now();
    await Promise.all([partial.closed(), silent.closed()]);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(partial.text()).toMatch(/^HTTP\/1\.1 408 /);
    expect(silent.text()).toBe('');
    expect(routed).toEqual([]);
  });

  it('stops accepting and drops the connections still sending on close()', async () => {
    const { router } = await door();
    const a = client(router.address.port);
    a.socket.write('GET /');
    await new Promise((r) => setTimeout(r, 50));
    router.close();
    await a.closed();
    await expect(
      new Promise((resolve, reject) => {
        const s = connect(router.address.port, '127.0.0.1');
        s.on('connect', resolve);
        s.on('error', reject);
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('serveHandedConnections', () => {
  /** An HTTP server served through serveHandedConnections, fed by a plain TCP listener. */
  async function worker(
    handler: (req: IncomingMessage, res: ServerResponse) => void,
    elsewhere: (req: IncomingMessage) => boolean = () => false,
  ): Promise<{ server: Server; port: number; handed: HandedConnections }> {
    const server = createServer({ connectionsCheckingInterval: 50 }, handler);
    server.headersTimeout = 300;
    server.requestTimeout = 400;
    const handed = await serveHandedConnections(server, { elsewhere });
    // Stands in for the primary: the first bytes read, then the socket handed over.
    const front: NetServer = createNetServer({ pauseOnConnect: true }, (socket) => {
      socket.once('data', (first: Buffer) => {
        socket.pause();
        handed.adopt(socket, first);
      });
      socket.resume();
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    cleanups.push(() => {
      server.closeAllConnections();
      front.close();
    });
    return { server, port: (front.address() as { port: number }).port, handed };
  }

  it('serves a handed connection, from the bytes already read on, and closes it after the response', async () => {
    const { port } = await worker((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () =>
        res.end(`${req.method} ${req.url} ${body} from ${req.socket.remoteAddress}`),
      );
    });
    const a = client(port);
    a.socket.write('POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n');
    await new Promise((r) => setTimeout(r, 30));
    a.socket.write('hello');
    await a.closed();
    expect(a.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(a.text()).toContain('\r\nConnection: close\r\n');
    expect(a.text()).toMatch(/POST \/x hello from 127\.0\.0\.1$/);
  });

  it('closes unanswered a request whose session lives on another worker', async () => {
    const seen: string[] = [];
    const { port } = await worker(
      (req, res) => {
        seen.push(req.url ?? '');
        res.end('ok');
      },
      (req) => req.url === '/p/1/elsewhere/xhr',
    );
    const a = client(port);
    a.socket.write('POST /p/1/elsewhere/xhr HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    await a.closed();
    expect(a.text()).toBe('');
    expect(seen).toEqual([]);
  });

  it("enforces the server's headersTimeout on a handed connection (it listens, for Node's sake)", async () => {
    const { server, port } = await worker((_req, res) => res.end('ok'));
    // On a socket nothing can reach: its file is gone.
    expect(server.listening).toBe(true);
    expect(existsSync(server.address() as string)).toBe(false);
    const a = client(port);
    a.socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const started = Date.now();
    await a.closed();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(a.text()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('lets close() finish only once the handed requests in progress are answered', async () => {
    let answer: (() => void) | undefined;
    const { server, port } = await worker((_req, res) => {
      answer = () => res.end('late');
    });
    const a = client(port);
    a.socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitUntil(() => answer !== undefined);
    let closed = false;
    server.close(() => (closed = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(false);
    answer?.();
    await a.closed();
    await waitUntil(() => closed, 2_000, 'close() to finish');
    expect(a.text()).toMatch(/late$/);
  });
});
