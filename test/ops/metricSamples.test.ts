// The metric samples source on its own: driven by a ticks Subject against a
// real hub with no clients, so every sample is known exactly.
import { NEVER, Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { SseHub } from '../../src/fanout/Hub.js';
import { metricSamples } from '../../src/ops/metricSamples.js';
import type { MetricSample } from '../../src/ops/metricSamples.js';

let hub: SseHub;
afterEach(() => hub.close());

function setup(totals: Record<string, number>) {
  hub = new SseHub();
  hub.addFamily('raw', NEVER);
  hub.addFamily('details', NEVER);
  hub.addFamily('notifications', NEVER);
  const ticks = new Subject<void>();
  const out: MetricSample[] = [];
  let completed = false;
  const sub = metricSamples({
    hub,
    ticks,
    totals: () => totals,
    gauges: () => ({ 'stream.detail.routes': 3 }),
  }).subscribe({ next: (s) => out.push(s), complete: () => (completed = true) });
  return { ticks, out, sub, isCompleted: () => completed };
}

describe('metricSamples', () => {
  it('emits nothing before the first tick', () => {
    const { out, sub } = setup({});
    expect(out).toEqual([]);
    sub.unsubscribe();
  });

  it('sends a gauge per family (details as "detail"), the total and the extra gauges', () => {
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
    const { ticks, out, sub } = setup(totals);
    ticks.next(); // counted from subscription: 10 was history
    expect(out.filter((s) => s.type === 'increment')).toEqual([]);
    totals['stream.messages.in'] = 25;
    hub.stats.msgsBroadcast += 4;
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

  it('completes when the ticks and the hub are done', () => {
    const { ticks, isCompleted } = setup({});
    ticks.complete();
    expect(isCompleted()).toBe(false);
    hub.close();
    expect(isCompleted()).toBe(true);
  });
});
