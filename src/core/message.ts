// The one message shape every source emits and every operator passes along.

/** A message on the bus. The payload is kept exactly as received, never re-serialised. */
export interface BusMessage {
  readonly channel: string;
  readonly payload: string;
  /** Milliseconds since the epoch when this process received it. */
  readonly receivedAt: number;
}

/** What every pub/sub source offers: cold, shared streams of a channel or a glob pattern. */
export interface PubSubSource {
  /** Messages published to exactly this channel (Redis SUBSCRIBE). */
  channel(name: string): import('rxjs').Observable<BusMessage>;
  /** Messages on every channel matching a Redis glob pattern (Redis PSUBSCRIBE). */
  pattern(glob: string): import('rxjs').Observable<BusMessage>;
}
