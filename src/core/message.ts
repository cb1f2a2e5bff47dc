// The one message shape every source emits and every operator passes along, and
// what a source and a publisher offer.
import type { Observable } from 'rxjs';
import type { MetricsRegistry } from './metrics.js';
import type { Readiness } from './readiness.js';

/** A message on the bus. The payload is kept exactly as received, never re-serialised. */
export interface BusMessage {
  readonly channel: string;
  readonly payload: string;
  /** Milliseconds since the epoch when this process received it. */
  readonly receivedAt: number;
}

/** A message to publish: what a demo feeder or a client hands a Publisher. */
export interface Publication {
  readonly channel: string;
  readonly payload: string;
}

/** What every pub/sub source offers: cold, shared streams of a channel or a glob pattern. */
export interface PubSubSource {
  /** Messages published to exactly this channel (Redis SUBSCRIBE). */
  channel(name: string): Observable<BusMessage>;
  /** Messages on every channel matching a Redis glob pattern (Redis PSUBSCRIBE). */
  pattern(glob: string): Observable<BusMessage>;
  /**
   * Emits once, and completes, when a subscription to the channel is in effect — a message
   * published after it will be delivered — while something is subscribed to
   * `channel(name)`. Absent: a subscription is in effect as soon as it is made.
   */
  live?(name: string): Observable<void>;
  /** Whether it delivers now (a Redis connection that is up); absent means always. */
  readiness?(): Readiness;
  /** The readiness now and at every change; absent means always ready. */
  readinessChanges?(): Observable<Readiness>;
  /**
   * Messages taken in so far, each counted once however many subscribers it
   * reached (one per subscribed channel or pattern it matched). A source that
   * counts spares CountedSource a shared layer on every channel.
   */
  received?(): number;
  /** Registers the source's own metrics (reconnects…). */
  instrument?(metrics: MetricsRegistry): void;
}

/** Publishes to the bus a source reads: Redis PUBLISH, or the embedded bus. */
export interface Publisher {
  publish(channel: string, payload: string): unknown;
}
