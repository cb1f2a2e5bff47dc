// The in-process bus: Redis pub/sub semantics without Redis.
import { describe, expect, it } from 'vitest';
import type { BusMessage } from '../../src/core/message.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';

describe('MemoryBus', () => {
  it('delivers to exact channels and matching patterns only', () => {
    const bus = new MemoryBus();
    const exact: BusMessage[] = [];
    const pattern: BusMessage[] = [];
    bus.channel('stream.score_updates').subscribe((m) => exact.push(m));
    bus.pattern('stream.tweet_updates.*').subscribe((m) => pattern.push(m));
    expect(bus.publish('stream.score_updates', '1F602')).toBe(1);
    expect(bus.publish('stream.tweet_updates.2665', '{}')).toBe(1);
    expect(bus.publish('stream.other', 'x')).toBe(0);
    expect(exact.map((m) => m.payload)).toEqual(['1F602']);
    expect(pattern.map((m) => m.channel)).toEqual(['stream.tweet_updates.2665']);
  });

  it('forgets channels and patterns when their last subscriber leaves', () => {
    const bus = new MemoryBus();
    const a = bus.channel('c').subscribe();
    const b = bus.channel('c').subscribe();
    const p = bus.pattern('c.*').subscribe();
    expect(bus.subscriptionCount()).toBe(2);
    a.unsubscribe();
    expect(bus.subscriptionCount()).toBe(2);
    b.unsubscribe();
    p.unsubscribe();
    expect(bus.subscriptionCount()).toBe(0);
    expect(bus.publish('c', 'x')).toBe(0);
  });

  it('lets a subscriber leave while a message is being delivered', () => {
    const bus = new MemoryBus();
    const got: string[] = [];
    const first = bus.channel('c').subscribe(() => first.unsubscribe());
    bus.channel('c').subscribe((m) => got.push(m.payload));
    bus.publish('c', 'one');
    bus.publish('c', 'two');
    expect(got).toEqual(['one', 'two']);
  });
});
