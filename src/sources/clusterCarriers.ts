// Which connection of a Redis Cluster client carries each live channel. ioredis
// moves subscriptions to a new connection after a failover or a slot move, but
// does not say when it is done: a channel Redis confirmed on a connection that
// has since gone is no longer live (a subscribe acknowledged then would be a
// lie), and /readyz should name the subscriber that is missing. Looked at again
// on the cluster's topology events and on each carrier's own close.
import type { Cluster, Redis } from 'ioredis';
import { clusterSubscriberFor } from './clusterSubscribers.js';

/** How often the carriers are looked at while a channel waits for a connection to carry it. */
const RECHECK_MS = 200;

/**
 * How often, while a channel has no ready connection, the cluster's slots are
 * asked again: ioredis asks with a back-off up to 2 s after a failed attempt,
 * so a replica promoted meanwhile would wait that long to be seen.
 */
const REFRESH_MS = 500;

/** The Cluster's events after which a channel may be carried by another connection. */
const TOPOLOGY_EVENTS = ['+node', '-node', '+subscriber', '-subscriber', 'subscribersReady'];

export class ClusterCarriers {
  /** Each live channel and the connection Redis confirmed it on. */
  private readonly confirmedOn = new Map<string, Redis>();
  /** Channels that were live on a connection now gone, not yet confirmed on another. */
  private readonly lost = new Set<string>();
  /** Lost channels subscribed again, waiting for Redis to confirm. */
  private readonly resending = new Set<string>();
  private readonly watched = new WeakSet<Redis>();
  private timer: ReturnType<typeof setInterval> | undefined;
  /** When the first channel now waiting was lost. */
  private lostSince: number | undefined;
  private refreshedAt = 0;
  private scheduled = false;
  private closed = false;

  /**
   * `onLost` is told the channels that are no longer live; `resubscribe` is asked
   * to subscribe again channels whose new connection is ready.
   */
  constructor(
    private readonly cluster: Cluster,
    private readonly isSharded: (channel: string) => boolean,
    private readonly onLost: (channels: readonly string[]) => void,
    private readonly resubscribe: (channels: string[]) => void,
    /** Every lost channel is live again, `ms` after the first was lost. */
    private readonly onRestored: (ms: number) => void = () => undefined,
  ) {
    for (const event of TOPOLOGY_EVENTS) cluster.on(event, this.schedule);
  }

  /** The connection that carries the channel now, if there is one. */
  carrierOf(channel: string): Redis | undefined {
    return clusterSubscriberFor(this.cluster, this.isSharded(channel) ? channel : undefined);
  }

  /** Redis confirmed the channel's subscription on `connection` (its carrier when it was sent). */
  confirmed(channel: string, connection: Redis | undefined): void {
    this.lost.delete(channel);
    this.resending.delete(channel);
    if (this.lostSince !== undefined && this.lost.size + this.resending.size === 0) {
      this.onRestored(Date.now() - this.lostSince);
      this.lostSince = undefined;
    }
    const on = connection ?? this.carrierOf(channel);
    if (!on) return;
    this.confirmedOn.set(channel, on);
    if (!this.watched.has(on)) {
      this.watched.add(on);
      on.once('close', this.schedule);
    }
    // Replaced while the SUBSCRIBE was on its way: look again.
    if (on !== this.carrierOf(channel)) this.schedule();
  }

  /** A subscription sent again failed: it is tried again at the next look. */
  failed(channel: string): void {
    if (this.resending.delete(channel)) this.lost.add(channel);
  }

  /** The channel is no longer subscribed. */
  forget(channel: string): void {
    this.confirmedOn.delete(channel);
    this.lost.delete(channel);
    this.resending.delete(channel);
    if (this.lost.size + this.resending.size === 0) this.lostSince = undefined;
  }

  /** Why the subscriptions are not all carried now, or undefined when they are. */
  trouble(): string | undefined {
    const waiting = this.lost.size + this.resending.size;
    if (waiting === 0) return undefined;
    const first = this.lost.values().next().value ?? this.resending.values().next().value;
    const carrier = first === undefined ? undefined : this.carrierOf(first);
    const where = carrier
      ? `redis subscriber ${carrier.options.host}:${carrier.options.port} ${carrier.status}`
      : 'no redis subscriber for their slot';
    return `${where}: ${waiting} channel${waiting === 1 ? '' : 's'} resubscribing`;
  }

  close(): void {
    this.closed = true;
    for (const event of TOPOLOGY_EVENTS) this.cluster.off(event, this.schedule);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Looks at the carriers once the event that asked has run its course (ioredis replaces after it). */
  private readonly schedule = (): void => {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.check();
    });
  };

  private check(): void {
    if (this.closed) return;
    const gone: string[] = [];
    for (const [channel, on] of this.confirmedOn) {
      if (on.status === 'ready' && on === this.carrierOf(channel)) continue;
      this.confirmedOn.delete(channel);
      this.lost.add(channel);
      gone.push(channel);
    }
    if (gone.length > 0) {
      this.lostSince ??= Date.now();
      this.onLost(gone);
    }
    const again = [...this.lost].filter((c) => this.carrierOf(c)?.status === 'ready');
    for (const c of again) {
      this.lost.delete(c);
      this.resending.add(c);
    }
    if (again.length > 0) this.resubscribe(again);
    const now = Date.now();
    if (this.lost.size > 0 && now - this.refreshedAt >= REFRESH_MS) {
      this.refreshedAt = now;
      this.cluster.refreshSlotsCache(() => undefined);
    }
    // While something waits, look again now and then: a new connection says nothing when it is ready.
    const waiting = this.lost.size + this.resending.size > 0;
    if (waiting && !this.timer) {
      this.timer = setInterval(() => this.check(), RECHECK_MS);
      this.timer.unref();
    } else if (!waiting && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
