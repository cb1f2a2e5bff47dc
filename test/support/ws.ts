// A WebSocket test client (the `ws` package) that keeps every frame it gets,
// parsed, and waits for the next one matching a predicate.
import { connect } from 'node:net';
import { WebSocket } from 'ws';

export interface WsClient {
  readonly ws: WebSocket;
  /** Every text frame received, parsed as JSON (or the raw text when it is not). */
  readonly received: unknown[];
  send(frame: unknown): void;
  sendRaw(data: string | Buffer): void;
  /** The first frame from `from` on (default: the next unseen one) that matches. */
  next(match: (frame: unknown) => boolean, timeoutMs?: number, what?: string): Promise<unknown>;
  /** Resolves with the close code once the server closes the connection. */
  closed(): Promise<number>;
  close(): void;
}

export function openWs(url: string, headers: Record<string, string> = {}): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const received: unknown[] = [];
    let seen = 0;
    const waiters = new Set<() => void>();
    let closeCode: number | undefined;
    const closeWaiters: ((code: number) => void)[] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const text = isBinary ? data.toString('hex') : data.toString('utf8');
      let frame: unknown = text;
      try {
        frame = JSON.parse(text);
      } catch {
        // Kept as text.
      }
      received.push(frame);
      for (const w of [...waiters]) w();
    });
    ws.on('close', (code: number) => {
      closeCode = code;
      for (const w of closeWaiters) w(code);
      for (const w of [...waiters]) w();
    });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.off('error', reject);
      ws.on('error', () => undefined);
      resolve({
        ws,
        received,
        send: (frame) => ws.send(JSON.stringify(frame)),
        sendRaw: (data) => ws.send(data),
        next: (match, timeoutMs = 5_000, what = 'a frame') =>
          new Promise((res, rej) => {
            const check = () => {
              while (seen < received.length) {
                const frame = received[seen++];
                if (match(frame)) {
                  cleanup();
                  res(frame);
                  return;
                }
              }
              if (closeCode !== undefined) {
                cleanup();
                rej(new Error(`closed (${closeCode}) while waiting for ${what}`));
              }
            };
            const timer = setTimeout(() => {
              cleanup();
              rej(
                new Error(
                  `timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(received.slice(-5))}`,
                ),
              );
            }, timeoutMs);
            const cleanup = () => {
              clearTimeout(timer);
              waiters.delete(check);
            };
            waiters.add(check);
            check();
          }),
        closed: () =>
          closeCode !== undefined
            ? Promise.resolve(closeCode)
            : new Promise((res) => closeWaiters.push(res)),
        close: () => ws.close(),
      });
    });
  });
}

/** Control replies: `{"controlMessage":true,"content":…}`, with `error` on a refusal. */
export const isControl =
  (content: string | RegExp, error = false) =>
  (frame: unknown): boolean => {
    const f = frame as { controlMessage?: unknown; content?: unknown; error?: unknown };
    if (f?.controlMessage !== true || typeof f.content !== 'string') return false;
    if ((f.error === true) !== error) return false;
    return typeof content === 'string' ? f.content === content : content.test(f.content);
  };

/** A channel message `{"channel","message"}`. */
export const isMessage =
  (channel: string, message?: unknown) =>
  (frame: unknown): boolean => {
    const f = frame as { channel?: unknown; message?: unknown; controlMessage?: unknown };
    return (
      f?.channel === channel &&
      f.controlMessage !== true &&
      (message === undefined || JSON.stringify(f.message) === JSON.stringify(message))
    );
  };

/** Sends a WebSocket handshake on a raw socket; resolves with all the server answered before closing. */
export function rawUpgrade(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const lines = Object.entries({ Host: 'x', ...headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d.toString('utf8')));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
    socket.write(
      `GET ${path} HTTP/1.1\r\n${lines}Upgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
  });
}

/** A pub/sub subscribe's acknowledgement: the channel's position, and whether a recovery worked. */
export interface SubscribeAck {
  readonly content: string;
  readonly channel: string;
  readonly epoch: string;
  readonly offset: number;
  readonly recovered?: boolean;
}

/** A pub/sub channel message, with its offset when it was published with history. */
export interface ChannelFrame {
  readonly channel: string;
  readonly message: unknown;
  readonly offset?: number;
}

/** Subscribes a pub/sub client (recovering from `recover` when given) and waits for the ack. */
export async function subscribe(
  c: WsClient,
  channel: string,
  recover?: { readonly epoch: string; readonly offset: number },
): Promise<SubscribeAck> {
  const since = recover ? { recover: { epoch: recover.epoch, offset: recover.offset } } : {};
  c.send({ action: 'subscribe', payload: { channel, ...since } });
  return (await c.next(isControl(`Subscribed to ${channel}`))) as SubscribeAck;
}
