// Postgres LISTEN/NOTIFY as Observables. One client connection per source; each
// channel is a cold Observable, counted by reference: the first subscriber makes the
// connection LISTEN, the last one leaving makes it UNLISTEN, so any number of
// subscribers of one channel cost one LISTEN. Postgres going away never errors the
// streams: the source reconnects with backoff, LISTENs again every channel still in
// use, and they resume. What was NOTIFYed while it was away is lost — LISTEN/NOTIFY
// keeps nothing for a session that is not there.
import pg from 'pg';
import type { ClientConfig, Notification } from 'pg';
import { BehaviorSubject, Observable } from 'rxjs';
import type { Subscriber } from 'rxjs';
import { silentLogger } from '../core/logger.js';
import type { Logger } from '../core/logger.js';
import type { BusMessage } from '../core/message.js';
import type { Readiness } from '../core/readiness.js';
import { LiveChannels } from './LiveChannels.js';
import { connectionReadiness } from './connectionReadiness.js';

export type PostgresConnectionState = 'connecting' | 'ready' | 'reconnecting' | 'closed';

export interface PostgresNotifyOptions {
  readonly logger?: Logger;
  /** The first reconnect's delay (ms); it doubles on every failed try. */
  readonly minBackoffMs?: number;
  /** The longest delay between two tries (ms). */
  readonly maxBackoffMs?: number;
  /** Extra `pg` client options (ssl, application_name, timeouts…). */
  readonly clientConfig?: Omit<ClientConfig, 'connectionString'>;
}

/**
 * Postgres truncates identifiers to NAMEDATALEN - 1 bytes: a longer channel would be
 * LISTENed under its truncated name, and its notifications would name a channel
 * nobody subscribed to.
 */
const MAX_CHANNEL_BYTES = 63;

/** LISTENs and UNLISTENs sent in one query at most. */
const SYNC_BATCH = 100;

/** A double-quoted identifier: any `"` inside is doubled, so every name is taken literally. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** One connection and what has been done on it; a reconnect starts a new one. */
interface Connection {
  readonly client: pg.Client;
  /** Connected and accepting queries. */
  up: boolean;
  /** Reached 'ready': the channels in use when it came up are LISTENed. */
  ready: boolean;
  /** Channels LISTENed on this connection (as far as completed queries tell). */
  readonly listened: Set<string>;
  /** Channels whose subscribers came or went since the last query was sent. */
  readonly pending: Set<string>;
  /** A LISTEN/UNLISTEN query is in flight or about to be sent. */
  syncing: boolean;
}

export class PostgresNotify {
  readonly state$ = new BehaviorSubject<PostgresConnectionState>('connecting');
  /** How often the connection came back after being lost. */
  reconnects = 0;

  private readonly listeners = new Map<string, Set<Subscriber<BusMessage>>>();
  /** Channels whose LISTEN Postgres has confirmed on the current connection. */
  private readonly liveChannels = new LiveChannels();
  private readonly log: Logger;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly clientConfig: ClientConfig;
  private connection: Connection | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Failed tries since the connection was last ready: the next delay's exponent. */
  private failures = 0;
  private everReady = false;
  private closed = false;

  constructor(connectionString: string, options: PostgresNotifyOptions = {}) {
    this.log = (options.logger ?? silentLogger).child({ component: 'postgres-notify' });
    this.minBackoffMs = options.minBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.clientConfig = {
      application_name: 'rx-streamer:notify',
      // The connection only ever waits for notifications: keepalives are what notice a
      // peer that vanished without closing it, and a connect timeout keeps a try to an
      // unreachable host from hanging forever instead of backing off and trying again.
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
      ...options.clientConfig,
      connectionString,
    };
    this.connect();
  }

  /**
   * Notifications on exactly this channel, in the order they arrive. Cold: the first
   * subscriber LISTENs, the last one's unsubscribe UNLISTENs. Throws at once for a
   * name Postgres cannot LISTEN on as given (empty, NUL, over 63 bytes).
   */
  channel(name: string): Observable<BusMessage> {
    assertChannelName(name);
    return new Observable<BusMessage>((subscriber) => {
      if (this.closed) {
        subscriber.complete();
        return;
      }
      let set = this.listeners.get(name);
      if (!set) {
        this.listeners.set(name, (set = new Set()));
        this.changed(name);
      }
      set.add(subscriber);
      return () => {
        set.delete(subscriber);
        if (set.size > 0 || this.listeners.get(name) !== set) return;
        this.listeners.delete(name);
        this.liveChannels.forget(name);
        this.changed(name);
      };
    });
  }

  /**
   * Emits once, and completes, when Postgres has confirmed the channel's LISTEN on the
   * current connection: from then on a NOTIFY to it is delivered. At once for a channel
   * already live. Waits across a reconnect; completes without emitting on close().
   */
  live(name: string): Observable<void> {
    return this.liveChannels.whenLive(name);
  }

  /** The channels in use: those kept LISTENed now, and LISTENed again after a reconnect. */
  listening(): string[] {
    return [...this.listeners.keys()];
  }

  /** How many channels are in use. */
  get listeningCount(): number {
    return this.listeners.size;
  }

  /** Whether a channel is in use (LISTENed, or about to be). */
  isListening(name: string): boolean {
    return this.listeners.has(name);
  }

  /**
   * Ready once connected with every channel that was in use at that moment LISTENed
   * again, so a NOTIFY sent after readiness reaches them; otherwise why not
   * (`postgres reconnecting`).
   */
  readiness(): Readiness {
    return this.ready.now();
  }

  /** One stream for every caller: the readiness now and at every change. */
  readinessChanges(): Observable<Readiness> {
    return this.ready.changes;
  }

  private readonly ready = connectionReadiness('postgres', this.state$);

  /** Completes every stream and closes the connection; no reconnect follows. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    // Cleared before completing, so the subscribers' teardowns send no UNLISTEN of their own.
    const subscribers = [...this.listeners.values()].flatMap((set) => [...set]);
    this.listeners.clear();
    this.liveChannels.end();
    for (const s of subscribers) s.complete();
    const connection = this.connection;
    this.connection = undefined;
    this.state$.next('closed');
    if (connection) await connection.client.end().catch(() => undefined);
  }

  private connect(): void {
    const client = new pg.Client(this.clientConfig);
    const connection: Connection = {
      client,
      up: false,
      ready: false,
      listened: new Set(),
      pending: new Set(),
      syncing: false,
    };
    this.connection = connection;
    // Each handler first checks its connection is still the current one: a dead
    // connection's late events ('end' after 'error') must not touch its successor.
    client.on('notification', (n: Notification) => {
      if (this.connection === connection) this.dispatch(n.channel, n.payload ?? '');
    });
    client.on('error', (err: Error) => this.lost(connection, err));
    client.on('end', () => this.lost(connection, new Error('connection ended')));
    client.connect().then(
      () => {
        if (this.connection !== connection) {
          // Closed, or given up on, while connecting.
          client.end().catch(() => undefined);
          return;
        }
        connection.up = true;
        // A fresh session LISTENs to nothing: every channel in use is LISTENed again.
        for (const name of this.listeners.keys()) connection.pending.add(name);
        this.sync(connection);
      },
      (err: Error) => this.lost(connection, err),
    );
  }

  /** Drops a connection that failed, and tries again after the backoff delay. */
  private lost(connection: Connection, err: Error): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    // Whatever was live was on the connection that just went.
    this.liveChannels.clear();
    connection.client.end().catch(() => undefined);
    if (this.closed) return;
    const delayMs = Math.min(this.minBackoffMs * 2 ** this.failures, this.maxBackoffMs);
    this.failures++;
    this.log.warn('postgres reconnecting', {
      delayMs,
      error: err.message,
      channels: this.listeners.size,
    });
    this.state$.next('reconnecting');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed) this.connect();
    }, delayMs);
  }

  /** A channel gained its first subscriber or lost its last: bring the connection in line. */
  private changed(name: string): void {
    const connection = this.connection;
    if (!connection) return;
    connection.pending.add(name);
    if (connection.up) this.sync(connection);
  }

  /**
   * Sends the LISTENs and UNLISTENs the pending channels need, one query at a time
   * (`pg` deprecates queries queued behind a running one), each batching every change
   * made meanwhile into one round trip. A channel that came and went in between costs
   * nothing; one whose UNLISTEN is still in flight is LISTENed again after it.
   */
  private sync(connection: Connection): void {
    if (connection.syncing) return;
    connection.syncing = true;
    // Started on the next microtask, so channels opened together share the first query.
    void Promise.resolve()
      .then(async () => {
        for (;;) {
          if (this.connection !== connection) return;
          const listen: string[] = [];
          const unlisten: string[] = [];
          // At most a batch per query: the one connection stays responsive, and a
          // flood of channels is LISTENed in steps other changes can come between.
          let taken = 0;
          for (const name of connection.pending) {
            if (taken++ === SYNC_BATCH) break;
            connection.pending.delete(name);
            const wanted = this.listeners.has(name);
            if (wanted && !connection.listened.has(name)) listen.push(name);
            else if (!wanted && connection.listened.has(name)) unlisten.push(name);
            // Unsubscribed and subscribed again before any UNLISTEN went out: still listened.
            else if (wanted) this.markLive(name);
          }
          if (listen.length === 0 && unlisten.length === 0) {
            if (connection.pending.size === 0) break;
            continue;
          }
          const statements = [
            ...unlisten.map((name) => `UNLISTEN ${quoteIdentifier(name)}`),
            ...listen.map((name) => `LISTEN ${quoteIdentifier(name)}`),
          ];
          await connection.client.query(statements.join('; '));
          if (this.connection !== connection) return;
          for (const name of unlisten) connection.listened.delete(name);
          for (const name of listen) connection.listened.add(name);
          // Only a channel still in use becomes live; one left meanwhile is pending again.
          for (const name of listen) if (this.listeners.has(name)) this.markLive(name);
        }
        connection.syncing = false;
        if (!connection.ready) this.becameReady(connection);
      })
      .catch((err: unknown) => {
        connection.syncing = false;
        // A lost connection has been dealt with by its own events. A refusal on a live
        // one (a standby cannot LISTEN) is treated as a failure of the connection, so it
        // is retried with backoff rather than at once, over and over.
        if (this.connection !== connection) return;
        this.log.warn('postgres listen failed', { error: (err as Error).message });
        this.lost(connection, err as Error);
      });
  }

  private becameReady(connection: Connection): void {
    connection.ready = true;
    this.failures = 0;
    if (this.everReady) {
      this.reconnects++;
      this.log.warn('postgres reconnected', { channels: this.listeners.size });
    } else {
      this.log.info('postgres ready', { channels: this.listeners.size });
    }
    this.everReady = true;
    this.state$.next('ready');
  }

  private markLive(name: string): void {
    this.liveChannels.markLive(name);
  }

  private dispatch(channel: string, payload: string): void {
    const set = this.listeners.get(channel);
    if (!set) return;
    const message: BusMessage = { channel, payload, receivedAt: Date.now() };
    // A copy: a subscriber that joins while this one is handed out did so after it arrived.
    for (const s of [...set]) s.next(message);
  }
}

function assertChannelName(name: string): void {
  if (name.length === 0) throw new RangeError('a Postgres channel name cannot be empty');
  if (name.includes('\0')) throw new RangeError('a Postgres channel name cannot contain NUL');
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_CHANNEL_BYTES) {
    throw new RangeError(
      `a Postgres channel name is at most ${MAX_CHANNEL_BYTES} bytes, not ${bytes} ("${name}")`,
    );
  }
}
