// A raw TCP client for HTTP tests that must send exactly the bytes they mean
// (pipelining, bare LF, half-closes): writes what it is given and keeps every
// byte it receives, as latin1 text.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { waitUntil } from './sse.js';

export interface RawClient {
  readonly socket: Socket;
  send(text: string): boolean;
  text(): string;
  closed(): boolean;
  /** Waits until what was received passes `check`; the message says what was awaited and what came. */
  until(what: string, check: (text: string) => boolean, timeoutMs?: number): Promise<void>;
}

/** Connects to 127.0.0.1:`port`; `opened` collects the sockets, for the test's teardown. */
export function rawClient(
  port: number,
  opened: Socket[],
  options: { allowHalfOpen?: boolean } = {},
): RawClient {
  const socket = connect({ port, host: '127.0.0.1', ...options });
  opened.push(socket);
  let received = '';
  let closed = false;
  socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
  socket.on('close', () => (closed = true));
  socket.on('error', () => {});
  return {
    socket,
    send: (text) => socket.write(text),
    text: () => received,
    closed: () => closed,
    until: (what, check, timeoutMs = 5_000) =>
      waitUntil(
        () => check(received),
        timeoutMs,
        `${what}; received so far: ${JSON.stringify(received)}`,
      ),
  };
}
