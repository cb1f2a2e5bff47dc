// The fan-out hub, for any transport, and the one owner of who is in which
// topic. Clients are organised in families (raw, eps, details, a user's
// channels…) and topics (a detail id, a channel). A family's feed is pulled —
// one shared feed for one topic or for one topic per group of a `groupBy`,
// subscribed while the family has clients, or a feed per topic, subscribed
// while that topic has clients — or pushed, with publish(). Messages are queued
// on their topic unencoded; the TopicWriter encodes and frames each turn once
// per framing and writes the same bytes to every client. A feed that errors or
// completes is subscribed again for the clients that remain or come. A client
// may join held (hold()): what its topic gets is kept for it while its
// protocol reads what it missed, and both are handed over in order, with no
// duplicate and no gap, when it is released — recovery on reconnect, the same
// for every protocol and transport.
import type { GroupedObservable, Observable, Subscription } from 'rxjs';
import { defer, finalize, mergeMap, noop, tap } from 'rxjs';
import { resubscribe } from '../operators/resubscribe.js';
import { silentLogger } from '../core/logger.js';
import type { Logger } from '../core/logger.js';
import { StreamerError } from '../core/errors.js';
import type { MetricsRegistry } from '../core/metrics.js';
import type { Session } from '../core/session.js';
import { Connection } from './Connection.js';
import type { Encoders } from './framing.js';
import { StreamAges } from './StreamAges.js';
import { Topic, encodeAll } from './Topic.js';
import { TopicWriter } from './TopicWriter.js';

/** Where a family's messages come from. */
export type FamilyFeed<M> =
  /** One shared feed, every message to the family's one topic (''). */
  | { readonly feed: Observable<M> }
  /** One shared feed routed by resource: each group feeds the topic named by its key. */
  | { readonly routes: Observable<GroupedObservable<string, M>> }
  /** A feed per topic, subscribed while the topic has clients and released after. */
  | { readonly topicFeed: (topic: string) => Observable<M> }
  /** No feed of its own: its messages are pushed with publish(). */
  | { readonly pushed: true };

export type FamilySpec<M> = FamilyFeed<M> & {
  /** The family's encoders, one per encoding its transports use (`sse`, `ws`…). */
  readonly encode: Encoders<M>;
  /** Its name in metrics, `stream.<metricName>.clients`; the family's name by default. */
  readonly metricName?: string;
  /**
   * Topics at most in this family, and the variable that sets it: clients that
   * make topics of their own (channels, sites) cannot take the whole MAX_TOPICS
   * budget from the other families.
   */
  readonly maxTopics?: { readonly count: number; readonly variable: string };
  /**
   * Its clients' framings read each message as it is written (event ids of a
   * connection's own, see eventIds): its topics queue the messages themselves.
   * Otherwise a family with one encoding encodes each message as it arrives
   * and queues the bytes, so a burst does not keep the messages alive.
   */
  readonly framesNeedMessages?: boolean;
};

export interface HubOptions {
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
  /** How long after a feed errors or completes it is subscribed again (ms). */
  readonly feedRetryMs?: number;
  /** Log CONNECT and DISCONNECT lines. */
  readonly verbose?: boolean;
  readonly logger?: Logger;
  /** Where the hub registers its metrics (clients per family, deliveries…). */
  readonly metrics?: MetricsRegistry;
  /** Connections at most, over every transport; 0: no bound. */
  readonly maxConnections?: number;
  /** Connections at most from one client IP; 0: no bound. */
  readonly maxConnectionsPerIp?: number;
  /** Distinct topics at most, over every family; 0: no bound. */
  readonly maxTopics?: number;
  /** Messages at most kept for one held session (see hold()). */
  readonly maxHeldMessages?: number;
}

/** What a client refused by a bound is told to wait before it tries again (seconds). */
const RETRY_AFTER_S = 10;

export interface HubStats {
  /** Messages queued for a topic with at least one client. */
  msgsBroadcast: number;
  /** Messages times clients: every message written to a connection. */
  deliveries: number;
  bytesWritten: number;
  slowClientsDropped: number;
  connectionsOpened: number;
  /** Streams ended because they reached their maximum age. */
  streamsExpired: number;
  /** Feeds that errored or completed and were subscribed again. */
  feedRestarts: number;
  /** Connections refused by MAX_CONNECTIONS or MAX_CONNECTIONS_PER_IP. */
  connectionsRefused: number;
  /** Joins refused because they would have made a topic past MAX_TOPICS. */
  topicsRefused: number;
}

/** A session put in a topic held (Hub.hold): it gets nothing from the topic until released. */
export interface HeldJoin<M> {
  /**
   * Writes the session `missed` (what it missed before it was held, read from
   * a history after hold()), then what arrived while it was held that `keep`
   * accepts, and makes it one of the topic's clients. A session whose hold
   * overflowed (more arrived than the hub keeps) is dropped instead: it cannot
   * be given everything, and comes back to recover again.
   */
  release(missed: readonly M[], keep: (message: M) => boolean): void;
}

export interface AttachOptions {
  /** Ends the stream this long after it opened (legacy forced refresh). */
  readonly maxAgeMs?: number;
  /** The endpoint it belongs to (a message endpoint's path), counted by sessionCount(). */
  readonly service?: string;
}

interface Family {
  readonly name: string;
  readonly spec: FamilySpec<unknown>;
  readonly topics: Map<string, Topic>;
  /** Connections in at least one of its topics. */
  clients: number;
  /** Live groups of a routed feed. */
  routes: number;
  /** The shared feed's subscription (not used by per-topic feeds). */
  feed: Subscription | undefined;
  /** The encoding its topics encode messages in as they arrive (see FamilySpec.framesNeedMessages). */
  readonly encodeOnArrival: string | undefined;
}

export class Hub {
  readonly stats: HubStats = {
    msgsBroadcast: 0,
    deliveries: 0,
    bytesWritten: 0,
    slowClientsDropped: 0,
    connectionsOpened: 0,
    streamsExpired: 0,
    feedRestarts: 0,
    connectionsRefused: 0,
    topicsRefused: 0,
  };

  /** Every connection, with the topics it is in: only the hub reads or writes this. */
  private readonly connections = new Map<Connection, Set<Topic>>();
  /** Connections per service (AttachOptions.service). */
  private readonly services = new Map<string, number>();
  private readonly families = new Map<string, Family>();
  private readonly topicFeeds = new Map<Topic, Subscription>();
  private readonly writer: TopicWriter;
  private readonly keepaliveTimer: NodeJS.Timeout;
  private readonly feedRetryMs: number;
  private readonly verbose: boolean;
  private readonly log: Logger;
  private readonly metrics: MetricsRegistry | undefined;
  private readonly ages = new StreamAges((c) => {
    this.stats.streamsExpired++;
    c.end();
  });
  private closed = false;
  private readonly maxConnections: number;
  private readonly maxPerIp: number;
  private readonly maxTopics: number;
  private readonly maxHeld: number;
  /** Connections by client IP, kept only when there is a bound per IP. */
  private readonly perIp = new Map<string, number>();

  constructor(options: HubOptions = {}) {
    this.maxConnections = options.maxConnections ?? 0;
    this.maxPerIp = options.maxConnectionsPerIp ?? 0;
    this.maxTopics = options.maxTopics ?? 0;
    this.maxHeld = options.maxHeldMessages ?? 10_000;
    this.verbose = options.verbose ?? false;
    this.feedRetryMs = options.feedRetryMs ?? 1_000;
    // 'sse': the component name operators' log filters know these lines by.
    this.log = (options.logger ?? silentLogger).child({ component: 'sse' });
    this.metrics = options.metrics;
    const fanout = this.metrics?.timing('stream.fanout', 'Time to write one loop turn of fan-out');
    this.writer = new TopicWriter({
      maxWritesPerTurn: options.maxWritesPerTurn ?? 256,
      maxBufferBytes: options.maxBufferBytes ?? 512 * 1024,
      slowClientTimeoutMs: options.slowClientTimeoutMs ?? 5_000,
      stats: this.stats,
      ...(fanout ? { turnMs: (ms: number) => fanout.record(ms) } : {}),
      log: this.log,
    });
    this.keepaliveTimer = setInterval(
      () => this.writer.keepalive(this.connections.keys()),
      options.keepaliveMs ?? 15_000,
    );
    this.keepaliveTimer.unref();
    this.registerMetrics();
  }

  /** Whether close() was called: transports answer new streams with their farewell. */
  get closing(): boolean {
    return this.closed;
  }

  /** Registers a family; its feed is subscribed only while it has clients. */
  addFamily<M>(name: string, spec: FamilySpec<M>): void {
    if (this.families.has(name)) throw new Error(`hub family "${name}" is already registered`);
    const encodings = Object.keys(spec.encode);
    const family: Family = {
      name,
      spec: spec as FamilySpec<unknown>,
      topics: new Map(),
      clients: 0,
      routes: 0,
      feed: undefined,
      encodeOnArrival:
        encodings.length === 1 && spec.framesNeedMessages !== true ? encodings[0] : undefined,
    };
    this.families.set(name, family);
    const metricName = spec.metricName ?? name;
    this.metrics?.gauge(
      `stream.${metricName}.clients`,
      `Clients of the ${name} streams`,
      () => family.clients,
    );
    if ('routes' in spec) {
      this.metrics?.gauge(
        `stream.${metricName}.routes`,
        `Live routes of the ${name} feed`,
        () => family.routes,
      );
    }
  }

  /**
   * Why a new connection from `clientIp` is refused (a 503 with Retry-After),
   * or undefined when it is within the bounds. Transports ask before they
   * answer; a refusal is counted.
   */
  refusal(clientIp: string): StreamerError | undefined {
    const why =
      this.maxConnections > 0 && this.connections.size >= this.maxConnections
        ? `this server has its ${this.maxConnections} connections (MAX_CONNECTIONS)`
        : this.maxPerIp > 0 && (this.perIp.get(clientIp) ?? 0) >= this.maxPerIp
          ? `${this.maxPerIp} connections from one address at most (MAX_CONNECTIONS_PER_IP)`
          : undefined;
    if (why === undefined) return undefined;
    this.stats.connectionsRefused++;
    return unavailable(`${why}; try again later`);
  }

  /**
   * The refusal of a join that would make one topic past MAX_TOPICS (a 503 with
   * Retry-After), counted; undefined when the topic exists or there is room.
   */
  topicRefusal(familyName: string, key = ''): StreamerError | undefined {
    const family = this.families.get(familyName);
    if (family?.topics.has(key) === true) return undefined;
    const own = family?.spec.maxTopics;
    const why =
      own && (family?.topics.size ?? 0) >= own.count
        ? `the ${familyName} streams have their ${own.count} distinct topics (${own.variable})`
        : this.maxTopics > 0 && this.topicCount() >= this.maxTopics
          ? `this server has its ${this.maxTopics} distinct topics (MAX_TOPICS)`
          : undefined;
    if (why === undefined) return undefined;
    this.stats.topicsRefused++;
    return unavailable(`${why}; try again later`);
  }

  /** Takes a transport's new connection: counted, aged, and released when it ends. */
  attach(connection: Connection, options: AttachOptions = {}): void {
    if (this.connections.has(connection)) return;
    this.connections.set(connection, new Set());
    connection.bound = this.writer;
    if (options.service !== undefined) {
      connection.service = options.service;
      this.services.set(options.service, (this.services.get(options.service) ?? 0) + 1);
    }
    if (this.maxPerIp > 0) {
      const ip = connection.info.clientIp;
      this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    }
    this.stats.connectionsOpened++;
    connection.onClosed = () => this.detach(connection);
    if (options.maxAgeMs !== undefined) this.ages.track(connection, options.maxAgeMs);
    if (this.verbose) this.log.info('CONNECT', { ...connection.info });
  }

  /**
   * Puts a connection in a family's topic ('' for a family with one topic).
   * Returns false, and joins nothing, when the topic would be one past
   * MAX_TOPICS (see topicRefusal).
   */
  join(session: Connection | Session, familyName: string, key = ''): boolean {
    const connection = member(session);
    const family = this.family(familyName);
    const topics = this.connections.get(connection);
    if (connection.closed || !topics) return false;
    if (this.isIn(connection, familyName, key)) return true;
    if (!family.topics.has(key) && this.topicRefusal(familyName, key)) return false;
    const firstOfFamily = !this.isIn(connection, familyName);
    const topic = this.topic(family, key);
    topic.clients.add(connection);
    topics.add(topic);
    if (topic.members === 1 && 'topicFeed' in family.spec) {
      const { topicFeed } = family.spec;
      this.topicFeeds.set(
        topic,
        this.subscribeFeed(`${family.name}/${key}`, () => topicFeed(key), topic),
      );
    }
    if (
      firstOfFamily &&
      family.clients++ === 0 &&
      !('topicFeed' in family.spec || 'pushed' in family.spec)
    ) {
      family.feed = this.subscribeFeed(family.name, () => this.sharedFeed(family), undefined);
    }
    return true;
  }

  /**
   * Puts a session in a family's topic held: what the topic gets from now on
   * is kept for it, not written, until the returned join is released with what
   * it missed before (read after this call, so nothing falls between the two).
   * A session already in the topic is held from now on. Undefined, and nothing
   * joined, when the topic would be one past MAX_TOPICS.
   */
  hold<M>(session: Connection | Session, familyName: string, key = ''): HeldJoin<M> | undefined {
    const connection = member(session);
    if (!this.join(connection, familyName, key)) return undefined;
    const topic = this.family(familyName).topics.get(key) as Topic;
    topic.hold(connection);
    return {
      release: (missed, keep) =>
        topic.release(connection, (kept, overflowed) => {
          if (connection.closed) return;
          if (overflowed) {
            this.log.warn('a recovering client missed more than the hub keeps; dropped', {
              requestPath: connection.info.requestPath,
              kept: this.maxHeld,
            });
            connection.destroy();
            return;
          }
          const messages = [...missed, ...(kept as M[]).filter(keep)];
          if (messages.length === 0) return;
          const { encoding } = connection.framing;
          const { parts, from } = encodeAll(
            topic,
            encoding,
            messages,
            topic.releaseCache(encoding),
          );
          connection.send(parts, from);
          connection.msgsSent += parts.length;
          this.stats.deliveries += parts.length;
          for (const p of parts) this.stats.bytesWritten += p.length;
        }),
    };
  }

  /** Takes a connection out of a family's topic. */
  leave(session: Connection | Session, familyName: string, key = ''): void {
    const connection = member(session);
    const family = this.families.get(familyName);
    const topic = family?.topics.get(key);
    if (!family || !topic || !this.connections.get(connection)?.delete(topic)) return;
    topic.remove(connection);
    if (topic.members === 0) {
      const feed = this.topicFeeds.get(topic);
      if (feed) {
        this.topicFeeds.delete(topic);
        feed.unsubscribe();
      }
      this.dropIfUnused(family, topic);
    }
    if (!this.isIn(connection, familyName) && --family.clients === 0 && family.feed) {
      family.feed.unsubscribe();
      family.feed = undefined;
    }
  }

  /**
   * Pushes a message to every client of a family's topic (a pushed family's
   * feed, or a message of the app's beside a pulled one); returns how many
   * clients there are now.
   */
  publish(familyName: string, key: string, message: unknown): number {
    const topic = this.families.get(familyName)?.topics.get(key);
    if (!topic) return 0;
    this.queue(topic, message);
    return topic.members;
  }

  /**
   * Resolves once everything queued so far on these topics of a family has
   * been handed to the sockets of all their clients (at once for a topic with
   * none): a durable feed acknowledges its messages after this.
   */
  written(familyName: string, keys: readonly string[]): Promise<void> {
    const family = this.families.get(familyName);
    const waits: Promise<void>[] = [];
    for (const key of keys) {
      const topic = family?.topics.get(key);
      if (topic) waits.push(topic.written());
    }
    return waits.length === 1
      ? (waits[0] as Promise<void>)
      : Promise.all(waits).then(() => undefined);
  }

  /**
   * Writes a connection at once everything its topics hold for it, so that a
   * status it sends next and then ends with comes after every message it was due.
   */
  flush(session: Connection | Session): void {
    const connection = member(session);
    if (connection.closed) return;
    for (const topic of this.connections.get(connection) ?? [])
      topic.flushTo(connection, this.stats);
  }

  /** The topics of a family a session is in. */
  topicsOf(session: Connection | Session, familyName: string): string[] {
    const keys: string[] = [];
    for (const t of this.connections.get(member(session)) ?? [])
      if (t.family === familyName) keys.push(t.key);
    return keys;
  }

  /** The connections in a family's topic now, held ones included. */
  sessionsIn(familyName: string, key = ''): Connection[] {
    return this.families.get(familyName)?.topics.get(key)?.everyMember() ?? [];
  }

  /** Whether a session is in a family's topic (in any of its topics without `key`). */
  isIn(session: Connection | Session, familyName: string, key?: string): boolean {
    for (const t of this.connections.get(member(session)) ?? []) {
      if (t.family === familyName && (key === undefined || t.key === key)) return true;
    }
    return false;
  }

  /** Connections of a service (a message endpoint's path) open now. */
  sessionCount(service: string): number {
    return this.services.get(service) ?? 0;
  }

  /** Every connection open now, oldest first. */
  connected(): IterableIterator<Connection> {
    return this.connections.keys();
  }

  /** Clients of a family, or of all families. */
  clientCount(familyName?: string): number {
    if (familyName === undefined) return this.connections.size;
    return this.families.get(familyName)?.clients ?? 0;
  }

  familyNames(): string[] {
    return [...this.families.keys()];
  }

  /** Live topics of a family, or of all families. */
  topicCount(familyName?: string): number {
    if (familyName !== undefined) return this.families.get(familyName)?.topics.size ?? 0;
    let n = 0;
    for (const f of this.families.values()) n += f.topics.size;
    return n;
  }

  /** Connections matching a predicate, e.g. one IP's streams of a family. */
  find(predicate: (c: Connection) => boolean): Connection[] {
    return [...this.connections.keys()].filter(predicate);
  }

  /**
   * Ends every stream the transport's way for a server going away (an SSE retry
   * line, a WebSocket 1001) and stops the keepalive; transports answer streams
   * asked for afterwards the same way.
   */
  close(): void {
    this.closed = true;
    clearInterval(this.keepaliveTimer);
    this.ages.clear();
    for (const c of this.connections.keys()) c.end(true);
  }

  /** Drops every stream's socket at once: for clients that did not go after close(). */
  destroyAll(): void {
    for (const c of this.connections.keys()) c.destroy();
  }

  private detach(connection: Connection): void {
    const topics = this.connections.get(connection);
    if (!topics) return;
    if (this.maxPerIp > 0) {
      const ip = connection.info.clientIp;
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left > 0) this.perIp.set(ip, left);
      else this.perIp.delete(ip);
    }
    for (const topic of [...topics]) this.leave(connection, topic.family, topic.key);
    this.connections.delete(connection);
    if (connection.service !== undefined) {
      const left = (this.services.get(connection.service) ?? 1) - 1;
      if (left > 0) this.services.set(connection.service, left);
      else this.services.delete(connection.service);
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

  private queue(topic: Topic, message: unknown): void {
    if (topic.members === 0) return;
    this.stats.msgsBroadcast++;
    this.writer.queue(topic, message);
  }

  private family(name: string): Family {
    const family = this.families.get(name);
    if (!family) throw new Error(`hub family "${name}" is not registered`);
    return family;
  }

  private topic(family: Family, key: string): Topic {
    let topic = family.topics.get(key);
    if (!topic) {
      topic = new Topic(
        family.name,
        key,
        family.spec.encode,
        (t, error) =>
          this.log.error('a message could not be encoded; left out', {
            family: t.family,
            topic: t.key,
            error: String(error),
          }),
        this.maxHeld,
        family.encodeOnArrival,
      );
      family.topics.set(key, topic);
    }
    return topic;
  }

  private dropIfUnused(family: Family, topic: Topic): void {
    if (topic.members === 0 && topic.routes === 0 && family.topics.get(topic.key) === topic) {
      family.topics.delete(topic.key);
      topic.settleAll();
    }
  }

  /** A shared feed as a stream of (topic, message) deliveries into the topics. */
  private sharedFeed(family: Family): Observable<unknown> {
    const spec = family.spec;
    if ('feed' in spec) {
      return spec.feed.pipe(
        tap((m) => {
          const topic = family.topics.get('');
          if (topic) this.queue(topic, m);
        }),
      );
    }
    if (!('routes' in spec)) throw new Error(`hub family "${family.name}" has no shared feed`);
    // Each group is bound to its topic once: a message is routed by groupBy alone.
    return spec.routes.pipe(
      mergeMap((group) => {
        const topic = this.topic(family, group.key);
        topic.routes++;
        family.routes++;
        return group.pipe(
          tap((m) => this.queue(topic, m)),
          finalize(() => {
            topic.routes--;
            family.routes--;
            this.dropIfUnused(family, topic);
          }),
        );
      }),
    );
  }

  /** Subscribes a feed; when it errors or completes, logs, counts and subscribes again later. */
  private subscribeFeed(
    name: string,
    open: () => Observable<unknown>,
    into: Topic | undefined,
  ): Subscription {
    const ended = (how: 'error' | 'complete', err?: unknown) => {
      if (this.closed) return;
      this.stats.feedRestarts++;
      this.log[how === 'error' ? 'error' : 'warn'](
        `feed ${how === 'error' ? 'failed' : 'ended'}; subscribing again`,
        {
          feed: name,
          retryMs: this.feedRetryMs,
          ...(how === 'error' ? { error: String(err) } : {}),
        },
      );
    };
    return defer(open)
      .pipe(
        resubscribe({
          delayMs: this.feedRetryMs,
          stopped: () => this.closed,
          onError: (err) => ended('error', err),
          onComplete: () => ended('complete'),
        }),
      )
      .subscribe(into ? (m) => this.queue(into, m) : noop);
  }

  private registerMetrics(): void {
    const m = this.metrics;
    if (!m) return;
    const s = this.stats;
    m.gauge('stream.clients', 'Clients of every stream', () => this.connections.size);
    m.gauge('stream.topics', 'Live topics over every family', () => this.topicCount());
    m.counter(
      'stream.messages.broadcast',
      'Messages queued for a topic with clients',
      () => s.msgsBroadcast,
    );
    m.counter('stream.messages.delivered', 'Messages written to a client', () => s.deliveries);
    m.counter('stream.bytes.written', 'Bytes written to clients', () => s.bytesWritten);
    m.counter(
      'stream.slow_clients.dropped',
      'Clients dropped for not reading',
      () => s.slowClientsDropped,
    );
    m.counter('stream.connections.opened', 'Streams opened', () => s.connectionsOpened);
    m.counter(
      'stream.connections.expired',
      'Streams ended at their maximum age',
      () => s.streamsExpired,
    );
    m.counter(
      'stream.connections.refused',
      'Connections refused by MAX_CONNECTIONS or MAX_CONNECTIONS_PER_IP',
      () => s.connectionsRefused,
    );
    m.counter('stream.topics.refused', 'Joins refused by MAX_TOPICS', () => s.topicsRefused);
    m.counter(
      'stream.feeds.restarted',
      'Feeds that errored or completed and were subscribed again',
      () => s.feedRestarts,
    );
  }
}

/** The hub's connection behind a protocol's session (transports make sessions that are). */
function member(session: Connection | Session): Connection {
  if (session instanceof Connection) return session;
  throw new TypeError('not a session of this server');
}

function unavailable(message: string): StreamerError {
  return new StreamerError('RXS_ERR_UNAVAILABLE', message, 503, {
    'Retry-After': String(RETRY_AFTER_S),
  });
}
