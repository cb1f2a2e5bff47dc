// The metric samples source on its own: driven by a ticks Subject against a
// registry whose every value the test sets, so every sample is known exactly.
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../src/core/metrics.js';
import { metricSamples } from '../../src/ops/metricSamples.js';
import type { MetricSample } from '../../src/ops/metricSamples.js';

let registry: MetricsRegistry;
afterEach(() => registry.close());

function setup(totals: Record<string, number>) {
  registry = new MetricsRegistry({ processMetrics: false });
  const clients: Record<string, number> = {
    'stream.raw.clients': 0,
    'stream.detail.clients': 0,
    'stream.notifications.clients': 0,
    'stream.clients': 0,
    'stream.detail.routes': 3,
  };
  for (const name of Object.keys(clients))
    registry.gauge(name, `gauge ${name}`, () => clients[name] ?? NaN);
  const broadcast = registry.counter('stream.messages.broadcast', 'messages broadcast');
  for (const name of Object.keys(totals))
    registry.counter(name, `total ${name}`, () => totals[name] ?? NaN);
  const ticks = new Subject<void>();
  const out: MetricSample[] = [];
  let completed = false;
  const sub = metricSamples({ registry, ticks }).subscribe({
    next: (s) => out.push(s),
    complete: () => (completed = true),
  });
  return { ticks, out, sub, broadcast, isCompleted: () => completed };
}

describe('metricSamples', () => {
  it('emits nothing before the first tick', () => {
    const { out, sub } = setup({ 'stream.messages.in': 10 });
    expect(out).toEqual([]);
    sub.unsubscribe();
  });

  it('sends every registered gauge in registration order', () => {
    const { ticks, out, sub } = setup({});
    ticks.next();
    expect(out.filter((s) => s.type === 'gauge')).toEqual([
      { type: 'gauge', name: 'stream.raw.clients', value: 0 },
      { type: 'gauge', name: 'stream.detail.clients', value: 0 },
      { type: 'gauge', name: 'stream.notifications.clients', value: 0 },
      { type: 'gauge', name: 'stream.clients', value: 0 },
      { type: 'gauge', name: 'stream.detail.routes', value: 3 },
    ]);
    sub.unsubscribe();
  });

  it('sends the growth of running totals since the previous tick, and nothing for no growth', () => {
    const totals = { 'stream.messages.in': 10 };
    const { ticks, out, sub, broadcast } = setup(totals);
    ticks.next(); // counted from subscription: 10 was history
    expect(out.filter((s) => s.type === 'increment')).toEqual([]);
    totals['stream.messages.in'] = 25;
    broadcast.inc(4);
    ticks.next();
    expect(out.filter((s) => s.type === 'increment')).toEqual([
      { type: 'increment', name: 'stream.messages.broadcast', value: 4 },
      { type: 'increment', name: 'stream.messages.in', value: 15 },
    ]);
    out.length = 0;
    ticks.next();
    expect(out.filter((s) => s.type === 'increment')).toEqual([]);
    sub.unsubscribe();
  });

  it('counts a counter registered after subscription from its value when first seen', () => {
    const { ticks, out, sub } = setup({});
    const late = registry.counter('redis.reconnects', 'reconnects');
    late.inc(7);
    ticks.next();
    late.inc(2);
    ticks.next();
    expect(out.filter((s) => s.type === 'increment')).toEqual([
      { type: 'increment', name: 'redis.reconnects', value: 2 },
    ]);
    sub.unsubscribe();
  });

  it('sends each timing between ticks, rounded to the microsecond', () => {
    const { out, sub } = setup({});
    const fanout = registry.timing('stream.fanout', 'fan-out turn');
    fanout.record(1.23456);
    fanout.record(0.0004);
    expect(out).toEqual([
      { type: 'timing', name: 'stream.fanout', value: 1.235 },
      { type: 'timing', name: 'stream.fanout', value: 0 },
    ]);
    sub.unsubscribe();
  });

  it('completes when the ticks and the registry are done', () => {
    const { ticks, isCompleted } = setup({});
    ticks.complete();
    expect(isCompleted()).toBe(false);
    registry.close();
    expect(isCompleted()).toBe(true);
  });
});
