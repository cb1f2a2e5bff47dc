// The embedded in-process bus: the same channel/pattern API as Redis pub/sub,
// for running without Redis (the demo) and for composing streams inside one process.
import { Observable } from 'rxjs';
import type { Subscriber } from 'rxjs';
import { busMessage } from '../core/message.js';
import type { BusMessage, PubSubSource } from '../core/message.js';
import type { MetricsRegistry } from '../core/metrics.js';
import { globMatcher } from './globMatcher.js';
import type { GlobMatcher } from './globMatcher.js';

interface PatternEntry {
  readonly matcher: GlobMatcher;
  readonly subscribers: Set<Subscriber<BusMessage>>;
}

export class MemoryBus implements PubSubSource {
  private readonly channels = new Map<string, Set<Subscriber<BusMessage>>>();
  private readonly patterns = new Map<string, PatternEntry>();
  private messagesIn = 0;

  /** Delivers a message to every current subscriber of the channel; returns how many got it. */
  publish(channel: string, payload: string): number {
    const message = busMessage(channel, payload, Date.now());
    let delivered = 0;
    const exact = this.channels.get(channel);
    if (exact) {
      this.messagesIn++;
      for (const s of exact) s.next(message);
      delivered += exact.size;
    }
    for (const entry of this.patterns.values()) {
      if (!entry.matcher.test(channel)) continue;
      this.messagesIn++;
      for (const s of entry.subscribers) s.next(message);
      delivered += entry.subscribers.size;
    }
    return delivered;
  }

  /** The channels and patterns subscribed now: none left behind once their streams are gone. */
  instrument(metrics: MetricsRegistry): void {
    metrics.gauge(
      'bus.subscriptions',
      'Channels and patterns subscribed on the embedded bus',
      () => this.channels.size + this.patterns.size,
    );
  }

  channel(name: string): Observable<BusMessage> {
    return new Observable<BusMessage>((subscriber) => {
      let set = this.channels.get(name);
      if (!set) this.channels.set(name, (set = new Set()));
      set.add(subscriber);
      return () => {
        set.delete(subscriber);
        if (set.size === 0) this.channels.delete(name);
      };
    });
  }

  pattern(glob: string): Observable<BusMessage> {
    return new Observable<BusMessage>((subscriber) => {
      let entry = this.patterns.get(glob);
      if (!entry)
        this.patterns.set(glob, (entry = { matcher: globMatcher(glob), subscribers: new Set() }));
      entry.subscribers.add(subscriber);
      const current = entry;
      return () => {
        current.subscribers.delete(subscriber);
        if (current.subscribers.size === 0) this.patterns.delete(glob);
      };
    });
  }

  /** Messages taken in: once per subscribed channel or pattern a publish reached. */
  received(): number {
    return this.messagesIn;
  }

  /** Channels and patterns with at least one subscriber, like PUBSUB NUMSUB/NUMPAT. */
  subscriptionCount(): number {
    return this.channels.size + this.patterns.size;
  }
}
