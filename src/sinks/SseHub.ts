// The SSE fan-out hub. Streams are organised in families (raw, eps, details…);
// a family's feed is an Observable of frames, each addressed to a topic (a
// detail id, or '' for a family with one topic) and already encoded. The hub
// subscribes a family's feed while it has clients, finds a frame's clients in
// O(1), writes at most once per client per event-loop turn, sends one shared
// keepalive, and drops clients that stop reading.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Subject } from 'rxjs';
import type { Observable, Subscription } from 'rxjs';
import { silentLogger } from '../logger.js';
import type { Logger } from '../logger.js';
import { SseConnection, connectionInfo, wireMessage } from './SseConnection.js';
import { sseComment } from './sseEncode.js';

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
  readonly topics: Map<string, Set<SseConnection>>;
  clients: number;
  subscription: Subscription | undefined;
}

const OK = sseComment('ok');
const KEEPALIVE = wireMessage(sseComment(''));

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
  private dirty: SseConnection[] = [];
  private flushScheduled = false;
  private readonly keepalive: NodeJS.Timeout;
  private readonly maxBufferBytes: number;
  private readonly slowClientTimeoutMs: number;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly verbose: boolean;
  private readonly log: Logger;
  private readonly fanoutTimes = new Subject<number>();
  /**
   * Streams with a maximum age, per age. A Set keeps insertion order, and streams
   * of one age are opened in deadline order, so each Set's first entry is next
   * due: one timer, armed for the earliest of those, serves every stream.
   */
  private readonly aging = new Map<number, Set<SseConnection>>();
  private ageTimer: NodeJS.Timeout | undefined;
  private ageTimerAt = Infinity;
  private closing: { last: Buffer | undefined } | undefined;

  constructor(options: SseHubOptions = {}) {
    this.maxBufferBytes = options.maxBufferBytes ?? 512 * 1024;
    this.slowClientTimeoutMs = options.slowClientTimeoutMs ?? 5_000;
    this.verbose = options.verbose ?? false;
    this.log = (options.logger ?? silentLogger).child({ component: 'sse' });
    this.headers = {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'Access-Control-Allow-Origin': options.corsOrigin ?? '*',
      'X-Accel-Buffering': 'no',
    };
    this.keepalive = setInterval(() => this.sendKeepalive(), options.keepaliveMs ?? 15_000);
    this.keepalive.unref();
    this.fanoutMs$ = this.fanoutTimes.asObservable();
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
    const family = this.families.get(options.family);
    if (!family) throw new Error(`SSE family "${options.family}" is not registered`);
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
    const topic = options.topic ?? '';
    const connection = new SseConnection(
      res,
      connectionInfo(req, options.namespace),
      options.family,
      topic,
    );
    this.attach(family, connection);
    res.once('close', () => this.detach(family, connection));
    releaseRequestState(req, res);
    if (options.maxAgeMs !== undefined) this.age(connection, options.maxAgeMs);
    return connection;
  }

  /** Hands an encoded frame to every client of the family's topic. */
  broadcast(familyName: string, topic: string, bytes: Buffer): number {
    const family = this.families.get(familyName);
    const clients = family?.topics.get(topic);
    if (!clients) return 0;
    this.stats.msgsBroadcast++;
    this.stats.deliveries += clients.size;
    const message = wireMessage(bytes);
    for (const c of clients) if (c.enqueue(message)) this.markDirty(c);
    return clients.size;
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
    clearTimeout(this.ageTimer);
    this.aging.clear();
    for (const c of this.connections) c.end(last);
    this.fanoutTimes.complete();
  }

  private attach(family: Family, connection: SseConnection): void {
    this.connections.add(connection);
    this.stats.connectionsOpened++;
    let set = family.topics.get(connection.topic);
    if (!set) family.topics.set(connection.topic, (set = new Set()));
    set.add(connection);
    if (family.clients++ === 0) {
      const name = connection.family;
      family.subscription = family.feed.subscribe({
        next: (frame) => this.broadcast(name, frame.topic, frame.bytes),
        error: (err: unknown) => {
          this.log.error('feed failed; closing its streams', { family: name, error: String(err) });
          family.subscription = undefined;
          for (const set of family.topics.values()) for (const c of set) c.end();
        },
      });
    }
    if (this.verbose) this.log.info('CONNECT', { ...connection.info, family: connection.family });
  }

  private detach(family: Family, connection: SseConnection): void {
    if (!this.connections.delete(connection)) return;
    connection.closed = true;
    const set = family.topics.get(connection.topic);
    set?.delete(connection);
    if (set?.size === 0) family.topics.delete(connection.topic);
    if (--family.clients === 0) {
      family.subscription?.unsubscribe();
      family.subscription = undefined;
    }
    for (const set of this.aging.values()) if (set.delete(connection)) break;
    if (this.verbose) {
      this.log.info('DISCONNECT', {
        ...connection.info,
        durationMs: Date.now() - connection.info.createdAt,
        msgsSent: connection.msgsSent,
      });
    }
  }

  private markDirty(connection: SseConnection): void {
    this.dirty.push(connection);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    const dirty = this.dirty;
    this.dirty = [];
    this.flushScheduled = false;
    const timed = this.fanoutTimes.observed;
    const started = timed ? performance.now() : 0;
    let now = 0;
    for (const c of dirty) {
      const before = c.bytesSent;
      const unsent = c.flush();
      this.stats.bytesWritten += c.bytesSent - before;
      if (unsent <= this.maxBufferBytes) continue;
      now ||= Date.now();
      const overForMs = c.markOver(now);
      if (unsent > 4 * this.maxBufferBytes || overForMs > this.slowClientTimeoutMs) {
        this.dropSlow(c, unsent);
      }
    }
    if (timed) this.fanoutTimes.next(performance.now() - started);
  }

  private age(connection: SseConnection, maxAgeMs: number): void {
    let set = this.aging.get(maxAgeMs);
    if (!set) this.aging.set(maxAgeMs, (set = new Set()));
    set.add(connection);
    this.armAgeTimer(connection.info.createdAt + maxAgeMs);
  }

  private armAgeTimer(at: number): void {
    if (at >= this.ageTimerAt) return;
    clearTimeout(this.ageTimer);
    this.ageTimerAt = at;
    this.ageTimer = setTimeout(() => this.expire(), Math.max(0, at - Date.now()));
    this.ageTimer.unref();
  }

  private expire(): void {
    this.ageTimer = undefined;
    this.ageTimerAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const [maxAgeMs, set] of this.aging) {
      for (const c of set) {
        const due = c.info.createdAt + maxAgeMs;
        if (due > now) {
          next = Math.min(next, due);
          break;
        }
        set.delete(c);
        this.stats.streamsExpired++;
        c.end();
      }
      if (set.size === 0) this.aging.delete(maxAgeMs);
    }
    if (next !== Infinity) this.armAgeTimer(next);
  }

  private dropSlow(connection: SseConnection, unsent: number): void {
    this.stats.slowClientsDropped++;
    this.log.warn('slow client dropped', {
      requestPath: connection.info.requestPath,
      clientIp: connection.info.clientIp,
      unsentBytes: unsent,
      limitBytes: this.maxBufferBytes,
      overForMs: Date.now() - (connection.overSince ?? Date.now()),
    });
    connection.destroy();
  }

  private sendKeepalive(): void {
    for (const c of this.connections) if (c.enqueue(KEEPALIVE, false)) this.markDirty(c);
  }
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
