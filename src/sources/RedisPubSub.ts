// Redis pub/sub as Observables. One subscriber connection per process; each
// channel or pattern is an Observable (SUBSCRIBE on the first subscribe,
// UNSUBSCRIBE a grace period after the last), so any number of clients of one
// channel cost one Redis subscription, and a channel nobody uses costs nothing. Redis going away never errors the streams: ioredis reconnects and
// re-subscribes, and they resume. On a Redis Cluster (REDIS_CLUSTER_NODES) the
// classic subscriptions ride one node's connection and the sharded ones
// (REDIS_SHARDED_CHANNELS: SSUBSCRIBE) one connection per master, both moved by
// ioredis after a failover or a slot move.
import { Cluster } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { BehaviorSubject, Observable, asyncScheduler } from 'rxjs';
import type { SchedulerLike, Subscriber, Subscription } from 'rxjs';
import { silentLogger } from '../core/logger.js';
import { Outage } from '../core/outage.js';
import type { Logger } from '../core/logger.js';
import { busMessage } from '../core/message.js';
import type { BusMessage, PubSubSource } from '../core/message.js';
import type { MetricsRegistry } from '../core/metrics.js';
import type { Readiness } from '../core/readiness.js';
import { sharedAfter } from '../core/sharedAfter.js';
import { LiveChannels } from './LiveChannels.js';
import { connectionReadiness } from './connectionReadiness.js';
import { connectRedis, shardedChannels } from './redisClient.js';
import type { RedisClient, RedisTarget } from './redisClient.js';
import { clusterSubscriberFor, slotOf } from './clusterSubscribers.js';
import { ClusterCarriers } from './clusterCarriers.js';

export type RedisConnectionState = 'connecting' | 'ready' | 'reconnecting' | 'closed';

export interface RedisPubSubOptions {
  /** How long a subscription outlives its last subscriber (ms). */
  readonly graceMs?: number;
  readonly logger?: Logger;
  readonly scheduler?: SchedulerLike;
  /** Extra ioredis options, e.g. a custom retryStrategy. */
  readonly redisOptions?: RedisOptions;
  /** Globs of the channels subscribed with SSUBSCRIBE (REDIS_SHARDED_CHANNELS). */
  readonly shardedChannels?: readonly string[];
}

type Kind = 'channel' | 'pattern';

interface Listeners {
  readonly subscribers: Set<Subscriber<BusMessage>>;
  /**
   * The subscribers a message goes to, as a Subject keeps them: copied once per
   * change, so one that subscribes while a message is dispatched gets the next.
   */
  snapshot: readonly Subscriber<BusMessage>[] | undefined;
  /** The pending UNSUBSCRIBE, once the last subscriber has left. */
  grace: Subscription | undefined;
}

export class RedisPubSub implements PubSubSource {
  readonly connection: RedisClient;
  /** Whether a channel goes by SSUBSCRIBE rather than SUBSCRIBE. */
  readonly isSharded: (channel: string) => boolean;
  /** The subscriber connection's state; `reconnects` counts how often it came back. */
  private messagesIn = 0;
  readonly state$ = new BehaviorSubject<RedisConnectionState>('connecting');
  reconnects = 0;

  /** Each channel and pattern subscribed in Redis: its subscribers, and its grace once they are gone. */
  private readonly listeners = {
    channel: new Map<string, Listeners>(),
    pattern: new Map<string, Listeners>(),
  };
  /** Channels whose SUBSCRIBE Redis has confirmed on the current connection. */
  private readonly liveChannels = new LiveChannels();
  private readonly graceMs: number;
  private readonly scheduler: SchedulerLike;
  private readonly log: Logger;
  private everReady = false;
  /** One warning when Redis goes, one line when it is back, whatever the tries in between. */
  private readonly outage: Outage;
  /** What the connection last failed with (ioredis says `error`, then `reconnecting`). */
  private lastError: string | undefined;
  /** On a Cluster: which connection carries each live channel, and what is missing. */
  private readonly carriers: ClusterCarriers | undefined;

  constructor(target: RedisTarget, options: RedisPubSubOptions = {}) {
    this.graceMs = options.graceMs ?? 2_000;
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.outage = new Outage(() => this.scheduler.now());
    this.log = (options.logger ?? silentLogger).child({ component: 'redis-pubsub' });
    this.isSharded = shardedChannels(options.shardedChannels ?? []);
    const sharded = (options.shardedChannels ?? []).length > 0;
    this.connection = connectRedis(
      target,
      {
        connectionName: 'rx-streamer:subscriber',
        maxRetriesPerRequest: null,
        // On one Redis this source re-subscribes itself on every 'ready' (see below):
        // ioredis's own resubscription misses a SUBSCRIBE written while the connection
        // is still starting. A Cluster moves its subscriptions to a new node itself.
        autoResubscribe: typeof target !== 'string',
        retryStrategy: (times) => Math.min(times * 100, 2_000),
        ...options.redisOptions,
      },
      { shardedSubscribers: sharded },
    );
    this.connection.on('message', (channel: string, payload: string) =>
      this.dispatch('channel', channel, channel, payload),
    );
    this.connection.on('smessage', (channel: string, payload: string) =>
      this.dispatch('channel', channel, channel, payload),
    );
    this.connection.on('pmessage', (pattern: string, channel: string, payload: string) =>
      this.dispatch('pattern', pattern, channel, payload),
    );
    this.connection.on('ready', () => {
      if (this.everReady) this.reconnects++;
      this.log.info(this.everReady ? 'redis reconnected' : 'redis ready', {
        channels: this.listeners.channel.size,
        patterns: this.listeners.pattern.size,
        ...this.outage.end(),
      });
      this.lastError = undefined;
      this.everReady = true;
      const channels = [...this.listeners.channel.keys()];
      const patterns = [...this.listeners.pattern.keys()];
      if (channels.length > 0) this.subscribeChannels(channels);
      if (patterns.length > 0) this.command('psubscribe', ...patterns);
      this.state$.next('ready');
    });
    // Whatever was live was on the connection that just closed.
    this.connection.on('close', () => this.liveChannels.clear());
    // ioredis says `error` and then `reconnecting` on every try: an operator
    // wants to know that Redis is gone and when it is back, not every try.
    this.connection.on('reconnecting', (delayMs: number) => {
      const error = this.lastError ?? 'connection closed';
      if (this.outage.failed(error)) this.log.warn('redis reconnecting', { delayMs, error });
      else this.log.debug('redis still unreachable', { delayMs, error });
      this.state$.next('reconnecting');
    });
    this.connection.on('error', (err: Error) => {
      this.lastError = err.message;
      this.log.debug('redis error', { error: err.message });
    });
    this.connection.on('end', () => this.state$.next('closed'));
    this.carriers =
      this.connection instanceof Cluster
        ? new ClusterCarriers(
            this.connection,
            this.isSharded,
            (channels) => {
              for (const name of channels) this.liveChannels.forget(name);
              this.log.warn('redis subscriber lost', { channels: channels.length });
            },
            (channels) => this.subscribeChannels(channels),
            (ms) => this.log.info('redis subscriptions restored', { afterMs: ms }),
          )
        : undefined;
  }

  // Shared by hand rather than with share(): every subscriber is in the channel's
  // set, which each message is dispatched to, so a subscription costs one
  // subscriber and no Subject, defer or finalize between it and Redis (a server
  // with a channel per user holds thousands). The entry is looked up on each
  // subscribe, so an Observable kept past its channel's UNSUBSCRIBE subscribes again.
  channel(name: string): Observable<BusMessage> {
    return new Observable<BusMessage>((subscriber) => this.listen('channel', name, subscriber));
  }

  pattern(glob: string): Observable<BusMessage> {
    return new Observable<BusMessage>((subscriber) => this.listen('pattern', glob, subscriber));
  }

  /**
   * Adds a subscriber to a channel's (or pattern's) set, SUBSCRIBing when it is
   * the first; the last one leaving UNSUBSCRIBEs after the grace period, unless
   * another comes meanwhile (a reconnecting client costs no round trip).
   */
  private listen(kind: Kind, name: string, subscriber: Subscriber<BusMessage>): () => void {
    const all = this.listeners[kind];
    let entry = all.get(name);
    if (!entry) {
      all.set(name, (entry = { subscribers: new Set(), snapshot: undefined, grace: undefined }));
      if (kind === 'channel') this.subscribeChannels([name]);
      else this.command('psubscribe', name);
    } else if (entry.grace) {
      entry.grace.unsubscribe();
      entry.grace = undefined;
    }
    const listeners = entry;
    listeners.subscribers.add(subscriber);
    listeners.snapshot = undefined;
    return () => {
      listeners.subscribers.delete(subscriber);
      listeners.snapshot = undefined;
      if (listeners.subscribers.size > 0 || all.get(name) !== listeners) return;
      if (this.graceMs <= 0) return this.unlisten(kind, name);
      listeners.grace = this.scheduler.schedule(() => {
        listeners.grace = undefined;
        if (listeners.subscribers.size === 0 && all.get(name) === listeners) {
          this.unlisten(kind, name);
        }
      }, this.graceMs);
    };
  }

  private unlisten(kind: Kind, name: string): void {
    this.listeners[kind].delete(name);
    if (kind === 'channel') {
      this.liveChannels.forget(name);
      this.carriers?.forget(name);
    }
    if (kind === 'pattern') this.command('punsubscribe', name);
    else this.command(this.isSharded(name) ? 'sunsubscribe' : 'unsubscribe', name);
  }

  /**
   * Emits once, and completes, when Redis has confirmed the channel's SUBSCRIBE
   * on the current connection: from then on a message published to it is
   * delivered. At once for a channel already live. Waits across a reconnect.
   */
  live(name: string): Observable<void> {
    return this.liveChannels.whenLive(name);
  }

  /**
   * Resolves once the messages Redis sent this connection before now are in:
   * a PING's reply comes after everything already on its way on the same
   * connection. After a history read, it is what keeps a message that was
   * in the history from arriving live after the recovery (a duplicate).
   */
  synced(channel?: string): Promise<void> {
    if (!(this.connection instanceof Cluster)) return this.syncs();
    // On a Cluster the PING goes to the connection that carries the channel.
    const sharded = channel !== undefined && this.isSharded(channel);
    const key = sharded ? `s${slotOf(channel)}` : 'classic';
    let sync = this.clusterSyncs.get(key);
    if (!sync) {
      const cluster = this.connection;
      sync = sharedAfter(async () => {
        const subscriber = clusterSubscriberFor(cluster, sharded ? channel : undefined);
        // No subscriber yet (nothing subscribed, or one being replaced): nothing in flight.
        if (subscriber?.status === 'ready') await subscriber.ping();
      });
      this.clusterSyncs.set(key, sync);
    }
    return sync();
  }

  /** One PING for every call made while the one before it was on its way. */
  private readonly syncs = sharedAfter(async () => {
    await this.connection.ping();
  });
  private readonly clusterSyncs = new Map<string, () => Promise<void>>();

  received(): number {
    return this.messagesIn;
  }

  /**
   * Entries held, over channels and patterns: `listeners` (and `shared`, the
   * same) while a channel is subscribed in Redis, in its grace period included;
   * `waiting`, channels whose SUBSCRIBE is not confirmed yet. All return to 0
   * when nothing is in use (for operators and tests).
   */
  cacheSizes(): { listeners: number; shared: number; waiting: number } {
    const listeners = this.listeners.channel.size + this.listeners.pattern.size;
    return { listeners, shared: listeners, waiting: this.liveChannels.waiting };
  }

  /**
   * Ready while the subscriber connection is up; otherwise why not (`redis
   * reconnecting`). On a Cluster, also not while a channel's subscriber is being
   * replaced (a failover): the reason names it.
   */
  readiness(): Readiness {
    const now = this.ready.now();
    const trouble = now.ready ? this.carriers?.trouble() : undefined;
    return trouble ? { ready: false, reason: trouble } : now;
  }

  /**
   * One stream for every caller: the connection's readiness now and at every
   * change (a Cluster's single shard being failed over is not one: its channels'
   * streams see a gap on their next message instead).
   */
  readinessChanges(): Observable<Readiness> {
    return this.ready.changes;
  }

  private readonly ready = connectionReadiness('redis', this.state$);

  instrument(metrics: MetricsRegistry): void {
    metrics.counter(
      'redis.reconnects',
      'Times the Redis subscriber connection came back',
      () => this.reconnects,
    );
  }

  /** Unsubscribes everything and closes the connection. */
  async close(): Promise<void> {
    for (const entry of [...this.listeners.channel.values(), ...this.listeners.pattern.values()]) {
      entry.grace?.unsubscribe();
      for (const s of [...entry.subscribers]) s.complete();
    }
    this.listeners.channel.clear();
    this.listeners.pattern.clear();
    this.state$.next('closed');
    this.carriers?.close();
    try {
      await this.connection.quit();
    } catch {
      this.connection.disconnect();
    }
  }

  private dispatch(kind: Kind, key: string, channel: string, payload: string): void {
    const entry = this.listeners[kind].get(key);
    if (!entry) return;
    this.messagesIn++;
    if (entry.subscribers.size === 0) return;
    const message = busMessage(channel, payload, Date.now());
    entry.snapshot ??= [...entry.subscribers];
    for (const s of entry.snapshot) s.next(message);
  }

  /**
   * SUBSCRIBEs channels; each becomes live when Redis confirms it, unless it was
   * unsubscribed (and perhaps subscribed again) meanwhile: only the confirmation
   * of the SUBSCRIBE made for the listeners now in place counts.
   */
  private subscribeChannels(names: string[]): void {
    if (this.connection.status !== 'ready') return;
    const classic = names.filter((n) => !this.isSharded(n));
    if (classic.length > 0) this.subscribeGroup('subscribe', classic);
    // SSUBSCRIBE takes channels of one slot per call.
    const bySlot = new Map<number, string[]>();
    for (const name of names) {
      if (!this.isSharded(name)) continue;
      const slot = slotOf(name);
      const group = bySlot.get(slot);
      if (group) group.push(name);
      else bySlot.set(slot, [name]);
    }
    for (const group of bySlot.values()) this.subscribeGroup('ssubscribe', group);
  }

  private subscribeGroup(cmd: 'subscribe' | 'ssubscribe', names: string[]): void {
    const sets = names.map((n) => this.listeners.channel.get(n));
    // The names of a group share their carrier: the classic connection, or their slot's.
    const first = names[0];
    const sentOn = first === undefined ? undefined : this.carriers?.carrierOf(first);
    this.connection[cmd](...names).then(
      () => {
        names.forEach((name, i) => {
          if (this.listeners.channel.get(name) !== sets[i]) return;
          this.liveChannels.markLive(name);
          this.carriers?.confirmed(name, sentOn);
        });
      },
      (err: unknown) => {
        for (const name of names) this.carriers?.failed(name);
        this.log.warn('redis subscribe failed', { names, error: (err as Error).message });
      },
    );
  }

  /** Sends (un)subscriptions only on a ready connection; 'ready' sends the rest. */
  private command(
    cmd: 'psubscribe' | 'unsubscribe' | 'sunsubscribe' | 'punsubscribe',
    ...names: string[]
  ): void {
    if (this.connection.status !== 'ready') return;
    this.connection[cmd](...(names as [string])).catch((err: unknown) =>
      this.log.warn(`redis ${cmd} failed`, { names, error: (err as Error).message }),
    );
  }
}
