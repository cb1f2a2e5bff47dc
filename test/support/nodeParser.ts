// Node's own HTTP/1 parser as an oracle: a real http.Server on loopback that
// reports, for the bytes written on one connection, the first request it read
// (method, url, version, raw headers) or the parse error it raised instead.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export type NodeParse =
  | {
      readonly kind: 'request';
      /** Which server event delivered it ('request', 'checkExpectation', 'connect'…). */
      readonly event: string;
      readonly method: string;
      readonly url: string;
      readonly httpVersion: string;
      /** Name, value, name, value… as received. */
      readonly rawHeaders: readonly string[];
    }
  | { readonly kind: 'error'; readonly code: string; readonly reason: string };

export interface NodeParser {
  /** Writes `bytes` on a new connection, half-closes it, and says what Node made of them. */
  parse(bytes: Buffer, timeoutMs?: number): Promise<NodeParse>;
  close(): Promise<void>;
}

/**
 * The Host requirement of HTTP/1.1 is a server policy Node applies after
 * parsing (a 400 without any event), so it is switched off: the oracle is the
 * parser. Expect, CONNECT and upgrade requests are recorded like any other.
 */
export async function startNodeParser(): Promise<NodeParser> {
  const server = createServer({ requireHostHeader: false });
  /** The first outcome per connection, by the client's port. */
  const outcomes = new Map<number, NodeParse>();
  const portOf = new WeakMap<Socket, number>();
  server.on('connection', (socket: Socket) => {
    if (socket.remotePort !== undefined) portOf.set(socket, socket.remotePort);
  });
  const record = (socket: Socket, outcome: NodeParse) => {
    const port = portOf.get(socket);
    if (port !== undefined && !outcomes.has(port)) outcomes.set(port, outcome);
  };
  const parsed = (event: string, req: IncomingMessage): NodeParse => ({
    kind: 'request',
    event,
    method: req.method ?? '',
    url: req.url ?? '',
    httpVersion: req.httpVersion,
    rawHeaders: req.rawHeaders,
  });
  const onRequest = (event: string) => (req: IncomingMessage, res: ServerResponse) => {
    record(req.socket, parsed(event, req));
    req.resume();
    res.writeHead(204, { Connection: 'close' });
    res.end();
  };
  const onSocketRequest = (event: string) => (req: IncomingMessage, socket: Socket) => {
    record(socket, parsed(event, req));
    socket.destroy();
  };
  server.on('request', onRequest('request'));
  server.on('checkContinue', onRequest('checkContinue'));
  server.on('checkExpectation', onRequest('checkExpectation'));
  server.on('connect', onSocketRequest('connect'));
  server.on('upgrade', onSocketRequest('upgrade'));
  server.on('clientError', (err: NodeJS.ErrnoException & { reason?: string }, socket: Socket) => {
    record(socket, { kind: 'error', code: err.code ?? String(err), reason: err.reason ?? '' });
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const parse = (bytes: Buffer, timeoutMs = 5_000) =>
    new Promise<NodeParse>((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' });
      let localPort: number | undefined;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`Node gave no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.on('connect', () => {
        localPort = socket.localPort;
        socket.end(bytes);
      });
      socket.on('error', () => {}); // a reset after Node's answer: the outcome is recorded
      socket.resume();
      socket.on('close', () => {
        clearTimeout(timer);
        const outcome = localPort === undefined ? undefined : outcomes.get(localPort);
        if (localPort !== undefined) outcomes.delete(localPort);
        if (outcome) resolve(outcome);
        else reject(new Error('the connection closed before Node read a request or an error'));
      });
    });

  return {
    parse,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
