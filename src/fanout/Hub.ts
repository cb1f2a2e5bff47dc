// The SSE fan-out hub. Streams are organised in families (raw, eps, details…);
// a family's feed is an Observable of frames, each addressed to a topic (a
// detail id, or '' for a family with one topic) and already encoded. The hub
// subscribes a family's feed while it has clients, finds a frame's topic in
// O(1) and queues it there for the TopicWriter, which writes each topic's turn
// to each of its clients once; one shared timer sends the keepalives.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Observable, Subscription } from 'rxjs';
import { silentLogger } from '../core/logger.js';
import type { Logger } from '../core/logger.js';
import { SseConnection, connectionInfo, httpChunk, streamInfo } from '../transports/sse/SseConnection.js';
import type { SseConnectionInfo } from '../transports/sse/SseConnection.js';
import { SseTopic } from './Topic.js';
import { StreamAges } from './StreamAges.js';
import { TopicWriter } from './TopicWriter.js';
import { sseComment } from '../transports/sse/sseEncode.js';

export interface SseFrame {
  readonly topic: string;
  readonly bytes: Buffer;
}

export interface SseHubOptions {
  readonly keepaliveMs?: number;
  /** Unsent bytes a client may hold before it is dropped as too slow. */
  readonly maxBufferBytes?: number;
  /**
   * How long a client may stay over maxBufferBytes before it is dropped; a burst
   * that a reading client drains in time costs nothing. Past 4× the bound a
   * client is dropped at once, so memory per client stays bounded.
   */
  readonly slowClientTimeoutMs?: number;
  /**
   * Client writes per event-loop turn before the hub lets the loop run (read
   * sockets, run timers) and goes on in the next turn; 256 writes take about a
   * millisecond.
   */
  readonly maxWritesPerTurn?: number;
  readonly corsOrigin?: string;
  /** Log CONNECT and DISCONNECT lines. */
  readonly verbose?: boolean;
  readonly logger?: Logger;
}

export interface SseOpenOptions {
  readonly family: string;
  readonly topic?: string;
  readonly namespace?: string;
  /** Written right after the headers; `:ok` by default. */
  readonly preamble?: Buffer;
  readonly headers?: Readonly<Record<string, string>>;
  /** Ends the stream this long after it opened (legacy forced refresh). */
  readonly maxAgeMs?: number;
}

export interface SseHubStats {
  /** Frames the hub fanned out to at least one client. */
  msgsBroadcast: number;
  /** Frames times clients: every message handed to a connection. */
  deliveries: number;
  bytesWritten: number;
  slowClientsDropped: number;
  connectionsOpened: number;
  /** Streams ended because they reached their maximum age. */
  streamsExpired: number;
}

interface Family {
  readonly feed: Observable<SseFrame>;
  readonly topics: Map<string, SseTopic>;
  clients: number;
  subscription: Subscription | undefined;
}

/** What a stream on a bare socket needs to know of its request. */
export type SseRequest = Omit<SseConnectionInfo, 'createdAt' | 'namespace'>;

const OK = sseComment('ok');
const KEEPALIVE = sseComment('');

export class SseHub {
  readonly connections = new Set<SseConnection>();
  readonly stats: SseHubStats = {
    msgsBroadcast: 0,
    deliveries: 0,
    bytesWritten: 0,
    slowClientsDropped: 0,
    connectionsOpened: 0,
    streamsExpired: 0,
  };
  /** How long each write-out of a turn's frames took (ms); computed only while observed. */
  readonly fanoutMs$: Observable<number>;

  private readonly families = new Map<string, Family>();
  private readonly writer: TopicWriter;
  private readonly keepalive: NodeJS.Timeout;
  private readonly headers: Readonly<Record<string, string>>;
  /** The response head's header lines for a stream on a bare socket, with the default headers. */
  private readonly headerLines: string;
  private readonly verbose: boolean;
  private readonly log: Logger;
  private readonly ages = new StreamAges((c) => {
    this.stats.streamsExpired++;
    c.end();
  });
  private closing: { last: Buffer | undefined } | undefined;

  constructor(options: SseHubOptions = {}) {
    this.verbose = options.verbose ?? false;
    this.log = (options.logger ?? silentLogger).child({ component: 'sse' });
    this.writer = new TopicWriter({
      maxWritesPerTurn: options.maxWritesPerTurn ?? 256,
      maxBufferBytes: options.maxBufferBytes ?? 512 * 1024,
      slowClientTimeoutMs: options.slowClientTimeoutMs ?? 5_000,
      stats: this.stats,
      log: this.log,
    });
    this.headers = {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'Access-Control-Allow-Origin': options.corsOrigin ?? '*',
      'X-Accel-Buffering': 'no',
    };
    this.headerLines = headerLines(this.headers);
    this.keepalive = setInterval(() => this.sendKeepalive(), options.keepaliveMs ?? 15_000);
    this.keepalive.unref();
    this.fanoutMs$ = this.writer.turnMs.asObservable();
  }

  /** Registers a family; its feed is subscribed only while the family has clients. */
  addFamily(name: string, feed: Observable<SseFrame>): void {
    if (this.families.has(name)) throw new Error(`SSE family "${name}" is already registered`);
    this.families.set(name, { feed, topics: new Map(), clients: 0, subscription: undefined });
  }

  /** Answers an SSE request: headers and a first byte at once; HEAD ends there. */
  open(
    req: IncomingMessage,
    res: ServerResponse,
    options: SseOpenOptions,
  ): SseConnection | undefined {
    const family = this.family(options.family);
    res.writeHead(200, options.headers ? { ...this.headers, ...options.headers } : this.headers);
    if (req.method === 'HEAD') {
      res.end();
      return undefined;
    }
    // A 200 that ends at once makes EventSource retry (elsewhere); an error status would not.
    if (this.closing) {
      res.end(this.closing.last ?? OK);
      return undefined;
    }
    // Headers and the first byte go out through the response, before the
    // connection decides whether it can write to the socket directly.
    res.write(options.preamble ?? OK);
    const topic = this.topic(family, options);
    const info = connectionInfo(req, options.namespace);
    const connection = SseConnection.onResponse(res, info, options.family, topic.key, topic, () =>
      this.detach(family, connection),
    );
    releaseRequestState(req, res);
    return this.attach(family, topic, connection, options);
  }

  /**
   * Answers a GET on a bare socket (see http/frontDoor): writes a chunked
   * response head and the first byte at once, with nothing of Node's HTTP
   * machinery kept for the stream's life. `release` takes the connection back
   * when the server ends the stream, for the client's next request. Returns
   * undefined, with the socket untouched, once the hub is closing: `open`
   * answers such a request.
   */
  openOnSocket(
    socket: Socket,
    request: SseRequest,
    options: SseOpenOptions,
    release?: (socket: Socket) => void,
  ): SseConnection | undefined {
    const family = this.family(options.family);
    if (this.closing) return undefined;
    const lines = options.headers
      ? headerLines({ ...this.headers, ...options.headers })
      : this.headerLines;
    const head = Buffer.from(
      `HTTP/1.1 200 OK\r\n${lines}Date: ${new Date().toUTCString()}\r\nTransfer-Encoding: chunked\r\n\r\n`,
      'latin1',
    );
    socket.write(Buffer.concat([head, httpChunk(options.preamble ?? OK)]));
    const topic = this.topic(family, options);
    const info = streamInfo({ ...request, namespace: options.namespace ?? request.requestPath });
    const connection = SseConnection.onSocket(
      socket,
      info,
      options.family,
      topic.key,
      topic,
      () => this.detach(family, connection),
      release,
    );
    return this.attach(family, topic, connection, options);
  }

  /** Hands an encoded frame to every client of the family's topic, at the end of this turn. */
  broadcast(familyName: string, topicKey: string, bytes: Buffer): number {
    const topic = this.families.get(familyName)?.topics.get(topicKey);
    if (!topic) return 0;
    this.stats.msgsBroadcast++;
    this.writer.queue(topic, bytes, true);
    return topic.clients.size;
  }

  /** Clients of a family, or of all families. */
  clientCount(familyName?: string): number {
    if (familyName === undefined) return this.connections.size;
    return this.families.get(familyName)?.clients ?? 0;
  }

  familyNames(): string[] {
    return [...this.families.keys()];
  }

  /** Connections matching a predicate, e.g. one IP's streams of a family. */
  find(predicate: (c: SseConnection) => boolean): SseConnection[] {
    return [...this.connections].filter(predicate);
  }

  /**
   * Ends every stream (after `last`, e.g. a retry line) and stops the keepalive;
   * streams opened afterwards get `last` and end at once.
   */
  close(last?: Buffer): void {
    this.closing = { last };
    clearInterval(this.keepalive);
    this.ages.clear();
    for (const c of this.connections) c.end(last);
    this.writer.turnMs.complete();
  }

  /** Drops every stream's socket at once: for clients that did not go after close(). */
  destroyAll(): void {
    for (const c of this.connections) c.destroy();
  }

  private family(name: string): Family {
    const family = this.families.get(name);
    if (!family) throw new Error(`SSE family "${name}" is not registered`);
    return family;
  }

  private topic(family: Family, options: SseOpenOptions): SseTopic {
    const key = options.topic ?? '';
    let topic = family.topics.get(key);
    if (!topic) family.topics.set(key, (topic = new SseTopic(options.family, key)));
    return topic;
  }

  private attach(
    family: Family,
    topic: SseTopic,
    connection: SseConnection,
    options: SseOpenOptions,
  ): SseConnection {
    this.connections.add(connection);
    this.stats.connectionsOpened++;
    topic.clients.add(connection);
    if (family.clients++ === 0) {
      const name = connection.family;
      family.subscription = family.feed.subscribe({
        next: (frame) => this.broadcast(name, frame.topic, frame.bytes),
        error: (err: unknown) => {
          this.log.error('feed failed; closing its streams', { family: name, error: String(err) });
          family.subscription = undefined;
          for (const t of family.topics.values()) for (const c of t.clients) c.end();
        },
      });
    }
    if (options.maxAgeMs !== undefined) this.ages.track(connection, options.maxAgeMs);
    if (this.verbose) this.log.info('CONNECT', { ...connection.info, family: connection.family });
    return connection;
  }

  private detach(family: Family, connection: SseConnection): void {
    if (!this.connections.delete(connection)) return;
    connection.markClosed();
    const topic = family.topics.get(connection.topic);
    topic?.clients.delete(connection);
    if (topic?.clients.size === 0) family.topics.delete(connection.topic);
    if (--family.clients === 0) {
      family.subscription?.unsubscribe();
      family.subscription = undefined;
    }
    this.ages.forget(connection);
    if (this.verbose) {
      this.log.info('DISCONNECT', {
        ...connection.info,
        durationMs: Date.now() - connection.info.createdAt,
        msgsSent: connection.msgsSent,
      });
    }
  }

  private sendKeepalive(): void {
    for (const family of this.families.values()) {
      for (const topic of family.topics.values()) this.writer.queue(topic, KEEPALIVE, false);
    }
  }
}

function headerLines(headers: Readonly<Record<string, string>>): string {
  let out = '';
  for (const [name, value] of Object.entries(headers)) out += `${name}: ${value}\r\n`;
  return out;
}

/**
 * A stream outlives its request by hours: drop what the HTTP framework hung on
 * the request for routing (its `next` closures, parsed URLs, params), which the
 * stream never needs again. Measured at about a third of a connection's heap.
 */
function releaseRequestState(req: IncomingMessage, res: ServerResponse): void {
  const r = req as unknown as Record<string, unknown>;
  for (const key of [
    'next',
    'route',
    'params',
    'query',
    '_parsedUrl',
    '_parsedOriginalUrl',
    'body',
  ]) {
    if (Object.hasOwn(r, key)) r[key] = undefined;
  }
  const o = res as unknown as Record<string, unknown>;
  if (Object.hasOwn(o, 'locals')) o.locals = undefined;
}
