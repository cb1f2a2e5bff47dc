// A pub/sub source that counts the messages it takes in, for the "messages in"
// metric. A source that counts its own (RedisPubSub, MemoryBus) is passed through
// untouched; another gets a shared layer per channel or pattern, counted once
// however many streams use it and forgotten when the last of them leaves.
import { defer, finalize, of, share, tap } from 'rxjs';
import type { Observable } from 'rxjs';
import type { BusMessage, PubSubSource } from '../core/message.js';
import type { MetricsRegistry } from '../core/metrics.js';
import type { Readiness } from '../core/readiness.js';

export class CountedSource implements PubSubSource {
  private counted = 0;
  private readonly streams = new Map<string, Observable<BusMessage>>();

  constructor(readonly inner: PubSubSource) {}

  /** Messages received on every channel and pattern in use (as Redis delivers them). */
  received(): number {
    return this.inner.received?.() ?? this.counted;
  }

  /** Channels and patterns with a counted stream in use (0 when nothing is subscribed, or the inner source counts). */
  get cacheSize(): number {
    return this.streams.size;
  }

  readiness(): Readiness {
    return this.inner.readiness?.() ?? { ready: true };
  }

  live(name: string): Observable<void> {
    return this.inner.live?.(name) ?? of(undefined);
  }

  synced(channel?: string): Promise<void> {
    return this.inner.synced?.(channel) ?? Promise.resolve();
  }

  readinessChanges(): Observable<Readiness> {
    return this.inner.readinessChanges?.() ?? of(this.readiness());
  }

  /** Registers `stream.messages.in` and the inner source's own metrics. */
  instrument(metrics: MetricsRegistry): void {
    metrics.counter('stream.messages.in', 'Messages taken in from the bus', () => this.received());
    this.inner.instrument?.(metrics);
  }

  // Looked up on each subscribe: an Observable kept past its stream's eviction must
  // join the current stream, or the same messages would be counted twice.
  channel(name: string): Observable<BusMessage> {
    if (this.inner.received) return this.inner.channel(name);
    return defer(() => this.shared(`c:${name}`, () => this.inner.channel(name)));
  }

  pattern(glob: string): Observable<BusMessage> {
    if (this.inner.received) return this.inner.pattern(glob);
    return defer(() => this.shared(`p:${glob}`, () => this.inner.pattern(glob)));
  }

  private shared(key: string, open: () => Observable<BusMessage>): Observable<BusMessage> {
    const cached = this.streams.get(key);
    if (cached) return cached;
    // The inner source keeps its own grace period; this share only makes the count
    // happen once per message rather than once per subscriber. finalize runs when the
    // share resets (no subscriber left, or the stream ended), dropping the entry.
    const stream: Observable<BusMessage> = open().pipe(
      tap(() => this.counted++),
      finalize(() => {
        if (this.streams.get(key) === stream) this.streams.delete(key);
      }),
      share(),
    );
    this.streams.set(key, stream);
    return stream;
  }
}
