// Clients for the notification streams' tests: a raw HTTP reader that parses each
// event's id, retry and data lines and wakes its waiters on every chunk (so a test
// can act the moment an event arrives), and a real EventSource client that keeps
// what it received; and a slow link to Redis for the connect race. Every wait is
// bounded and says what it was waiting for.
import { request } from 'node:http';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { EventSource } from 'eventsource';

export type NotifyStatus = 'ok' | 'failure' | 'error' | 'disconnected';

/** A status event's data, as Sisyphus clients parse it. */
export const statusData = (status: NotifyStatus): string =>
  `<message><status>${status}</status></message>`;

const STATUS = /^<message><status>(ok|failure|error|disconnected)<\/status><\/message>$/;

export const NOOP = 'noop';

/** The status an event's data carries, if it is a status event. */
export function statusOf(data: string): NotifyStatus | undefined {
  return STATUS.exec(data)?.[1] as NotifyStatus | undefined;
}

export interface NotifyEvent {
  /** The event type (`unrecovered`), undefined for a plain message. */
  readonly event: string | undefined;
  readonly id: string | undefined;
  readonly retry: string | undefined;
  readonly data: string;
  /** The event's lines as received, without the blank line that ends it. */
  readonly raw: string;
}

/** The complete events in an SSE body (a block still being received is left out). */
export function parseEvents(text: string): NotifyEvent[] {
  const blocks = text.split('\n\n');
  blocks.pop(); // after the last "\n\n": empty, or an event not yet complete
  const out: NotifyEvent[] = [];
  for (const raw of blocks) {
    let event: string | undefined;
    let id: string | undefined;
    let retry: string | undefined;
    const data: string[] = [];
    for (const line of raw.split('\n')) {
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'id') id = value;
      else if (field === 'retry') retry = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0 || id !== undefined || retry !== undefined) {
      out.push({ event, id, retry, data: data.join('\n'), raw });
    }
  }
  return out;
}

/** Runs checks whenever something arrives; each wait rejects after its own timeout. */
class Waiters {
  private readonly pending = new Set<() => void>();

  wait(
    check: () => boolean,
    what: string,
    timeoutMs: number,
    gaveUp?: () => string | undefined,
  ): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const run = () => {
        if (check()) {
          done();
          resolve();
          return;
        }
        const why = gaveUp?.();
        if (why !== undefined) {
          done();
          reject(new Error(`${what}: ${why}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.pending.delete(run);
      };
      this.pending.add(run);
    });
  }

  poke(): void {
    for (const run of [...this.pending]) run();
  }
}

export interface NotifyReader {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly req: ClientRequest;
  readonly res: IncomingMessage;
  /** The body so far, as text. */
  text(): string;
  /** Every complete event so far, noops and statuses included. */
  events(): NotifyEvent[];
  /** The statuses received so far, in order. */
  statuses(): NotifyStatus[];
  /** The data of the channel messages received so far (no noop, no status). */
  messages(): string[];
  readonly isEnded: boolean;
  /** Resolves once `predicate` holds; rejects at the timeout, or as soon as the stream ends without it. */
  waitFor(
    predicate: (events: NotifyEvent[]) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<void>;
  /** Resolves with the first status event; rejects if it is not `status`. */
  waitStatus(status: NotifyStatus, timeoutMs?: number): Promise<NotifyEvent>;
  /** Resolves once a channel message with this data has arrived. */
  waitMessage(data: string, timeoutMs?: number): Promise<void>;
  /** Resolves once the server has ended the stream. */
  ended(timeoutMs?: number): Promise<void>;
  close(): void;
}

/** The events after `ok`, noops left out, with their kind: a message's data, or `event:<type> <data>`. */
export function afterOk(s: NotifyReader): string[] {
  const events = s.events();
  const ok = events.findIndex((e) => statusOf(e.data) === 'ok');
  return events
    .slice(ok + 1)
    .filter((e) => e.data !== NOOP)
    .map((e) => (e.event ? `event:${e.event} ${e.data}` : e.data));
}

export interface NotifyReaderOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** Called synchronously for each event as soon as it is complete. */
  readonly onEvent?: (event: NotifyEvent) => void;
  /** How long the response head may take (ms). */
  readonly timeoutMs?: number;
}

const DEFAULT_WAIT_MS = 5_000;

/** Opens a stream over a real HTTP connection and reads it. */
export function openNotify(url: string, options: NotifyReaderOptions = {}): Promise<NotifyReader> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} });
    const headTimer = setTimeout(() => {
      req.destroy();
      reject(
        new Error(`no response head from ${url} within ${options.timeoutMs ?? DEFAULT_WAIT_MS} ms`),
      );
    }, options.timeoutMs ?? DEFAULT_WAIT_MS);
    req.once('error', (err) => {
      clearTimeout(headTimer);
      reject(err);
    });
    req.once('response', (res) => {
      clearTimeout(headTimer);
      // Errors after the head (a reset on close) end the stream; they are not test failures.
      req.on('error', () => undefined);
      res.on('error', () => undefined);
      const decoder = new StringDecoder('utf8');
      const waiters = new Waiters();
      let text = '';
      let parsed: NotifyEvent[] = [];
      let parsedLength = -1;
      let delivered = 0;
      let ended = false;
      const events = () => {
        if (parsedLength !== text.length) {
          parsed = parseEvents(text);
          parsedLength = text.length;
        }
        return parsed;
      };
      res.on('data', (chunk: Buffer) => {
        text += decoder.write(chunk);
        const all = events();
        if (options.onEvent) for (const e of all.slice(delivered)) options.onEvent(e);
        delivered = all.length;
        waiters.poke();
      });
      const finish = () => {
        if (ended) return;
        ended = true;
        waiters.poke();
      };
      res.once('end', finish);
      res.once('close', finish);
      const statuses = () =>
        events().flatMap((e) => {
          const s = statusOf(e.data);
          return s ? [s] : [];
        });
      const messages = () =>
        events()
          .filter((e) => e.event === undefined && e.data !== NOOP && statusOf(e.data) === undefined)
          .map((e) => e.data);
      const endedWithout = () =>
        ended ? `the stream ended; received ${JSON.stringify(text)}` : undefined;
      const reader: NotifyReader = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        req,
        res,
        text: () => text,
        events,
        statuses,
        messages,
        get isEnded() {
          return ended;
        },
        waitFor: (predicate, what, timeoutMs = DEFAULT_WAIT_MS) =>
          waiters.wait(() => predicate(events()), what, timeoutMs, endedWithout),
        async waitStatus(status, timeoutMs = DEFAULT_WAIT_MS) {
          await waiters.wait(
            () => statuses().length > 0,
            `status ${status} on ${url}`,
            timeoutMs,
            endedWithout,
          );
          const first = events().find((e) => statusOf(e.data) !== undefined) as NotifyEvent;
          if (statusOf(first.data) !== status) {
            throw new Error(`expected status ${status} on ${url}, got ${first.data}`);
          }
          return first;
        },
        waitMessage: (data, timeoutMs = DEFAULT_WAIT_MS) =>
          waiters.wait(
            () => messages().includes(data),
            `message ${JSON.stringify(data)} on ${url}`,
            timeoutMs,
            endedWithout,
          ),
        ended: (timeoutMs = DEFAULT_WAIT_MS) =>
          waiters.wait(() => ended, `the end of the stream ${url}`, timeoutMs),
        close: () => req.destroy(),
      };
      resolve(reader);
    });
    req.end();
  });
}

export interface EsMessage {
  readonly data: string;
  readonly lastEventId: string;
}

export interface EsClient {
  readonly es: EventSource;
  /** Every message event received, noops included, across reconnections. */
  readonly received: EsMessage[];
  /** How many times the connection opened. */
  opens(): number;
  /** How many error events (a stream ending, a failed reconnect) it saw. */
  errors(): number;
  waitFor(
    predicate: (received: EsMessage[]) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<void>;
  close(): void;
}

/** A real EventSource client (the `eventsource` package, over fetch). */
export function openEventSource(url: string): EsClient {
  const es = new EventSource(url);
  const waiters = new Waiters();
  const received: EsMessage[] = [];
  let opens = 0;
  let errors = 0;
  es.onopen = () => {
    opens++;
    waiters.poke();
  };
  es.onmessage = (e) => {
    received.push({ data: String(e.data), lastEventId: e.lastEventId });
    waiters.poke();
  };
  es.onerror = () => {
    errors++;
    waiters.poke();
  };
  return {
    es,
    received,
    opens: () => opens,
    errors: () => errors,
    waitFor: (predicate, what, timeoutMs = DEFAULT_WAIT_MS) =>
      waiters.wait(() => predicate(received), `${what} (EventSource ${url})`, timeoutMs),
    close: () => es.close(),
  };
}

export interface LatencyProxy {
  readonly url: string;
  /** Connections currently proxied. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a real server that holds every byte going upstream for
 * `delayMs`, in order (replies come back at once): a slow link between the
 * streamer and Redis, which widens the window between a SUBSCRIBE being sent and
 * Redis acting on it, so that a stream saying ok too early loses messages.
 */
export function latencyProxy(upstreamPort: number, delayMs: number): Promise<LatencyProxy> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      // Timers of equal delay run in the order set, so the bytes stay in order.
      setTimeout(() => upstream.write(chunk), delayMs);
    });
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) s.on('error', drop).on('close', drop);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `redis://127.0.0.1:${port}`,
        connections: () => sockets.size / 2,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
