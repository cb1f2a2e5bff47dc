// The one message shape every source emits and every operator passes along, and
// what a source and a publisher offer.
import type { Observable } from 'rxjs';
import { untagged } from './position.js';
import type { Position } from './position.js';
import type { MetricsRegistry } from './metrics.js';
import type { Readiness } from './readiness.js';

/** A message on the bus. The payload is kept exactly as received, never re-serialised. */
export interface BusMessage {
  readonly channel: string;
  readonly payload: string;
  /** Milliseconds since the epoch when this process received it. */
  readonly receivedAt: number;
  /** Its place in the channel's history, when it was published with history. */
  readonly position?: Position;
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
  /**
   * Resolves once every message published before the call has been received
   * on what is subscribed: a reply read on another connection (a history
   * read) can overtake messages still in flight on the subscriber's. Absent:
   * a message is received as it is published. With a channel, only that
   * channel's connection is waited on (a sharded channel has its own).
   */
  synced?(channel?: string): Promise<void>;
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

/**
 * A message as sources hand it on: a payload PUBLISHed with history has its tag
 * taken off and its position kept beside it.
 */
export function busMessage(channel: string, payload: string, receivedAt: number): BusMessage {
  // One comparison for a message without a tag: the common case on every channel.
  const found = payload.charCodeAt(0) === 0x1e ? untagged(payload) : undefined;
  return found
    ? { channel, payload: found.payload, receivedAt, position: found.position }
    : { channel, payload, receivedAt };
}
