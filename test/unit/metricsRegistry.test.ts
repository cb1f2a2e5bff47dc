// The metrics registry: what it holds, what read() and timings$ give, and its
// Prometheus text as a real Prometheus text parser reads it.
import parsePrometheus from 'parse-prometheus-text-format';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricFamily } from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../src/core/metrics.js';
import type { TimingSample } from '../../src/core/metrics.js';

const quiet = () => new MetricsRegistry({ processMetrics: false });

async function families(registry: MetricsRegistry): Promise<Map<string, MetricFamily>> {
  const parsed = parsePrometheus(await registry.prometheus());
  return new Map(parsed.map((family) => [family.name, family]));
}

describe('MetricsRegistry', () => {
  it('counts a counter without read through inc(), and refuses to count down', () => {
    const registry = quiet();
    const dropped = registry.counter('stream.slow_clients.dropped', 'Slow clients dropped');
    dropped.inc();
    dropped.inc(3);
    expect(dropped.value).toBe(4);
    expect(registry.read().counters).toEqual({ 'stream.slow_clients.dropped': 4 });
    expect(() => dropped.inc(-1)).toThrow(/stream\.slow_clients\.dropped cannot grow by -1/);
    expect(() => dropped.inc(NaN)).toThrow(/cannot grow by NaN/);
    expect(dropped.value).toBe(4);
  });

  it('reads a counter with read from where it is counted, when sampled', () => {
    const registry = quiet();
    let received = 10;
    const counter = registry.counter('stream.messages.in', 'Messages in', () => received);
    received = 12;
    expect(counter.value).toBe(12);
    expect(registry.read().counters).toEqual({ 'stream.messages.in': 12 });
  });

  it('reads gauges when sampled, counters and gauges each in registration order', () => {
    const registry = quiet();
    let clients = 2;
    registry.gauge('stream.clients', 'Clients', () => clients);
    registry.counter('stream.messages.in', 'Messages in', () => 5);
    registry.gauge('stream.detail.routes', 'Detail routes', () => 7);
    registry.counter('redis.reconnects', 'Reconnects').inc(2);
    registry.timing('stream.fanout', 'Fan-out turns');
    clients = 9;
    const { counters, gauges } = registry.read();
    expect(Object.entries(gauges)).toEqual([
      ['stream.clients', 9],
      ['stream.detail.routes', 7],
    ]);
    expect(Object.entries(counters)).toEqual([
      ['stream.messages.in', 5],
      ['redis.reconnects', 2],
    ]);
  });

  it('sends recorded timings to timings$, dropping bad readings, and completes on close', () => {
    const registry = quiet();
    const fanout = registry.timing('stream.fanout', 'Fan-out turns');
    const seen: TimingSample[] = [];
    let completed = false;
    registry.timings$.subscribe({ next: (t) => seen.push(t), complete: () => (completed = true) });
    fanout.record(1.5);
    fanout.record(-1);
    fanout.record(NaN);
    fanout.record(0.25);
    expect(seen).toEqual([
      { name: 'stream.fanout', ms: 1.5 },
      { name: 'stream.fanout', ms: 0.25 },
    ]);
    expect(completed).toBe(false);
    registry.close();
    expect(completed).toBe(true);
  });

  it('throws on a name registered twice, naming it, unless it was removed first', () => {
    const registry = quiet();
    registry.gauge('stream.clients', 'Clients', () => 1);
    expect(() => registry.counter('stream.clients', 'Again')).toThrow(
      'metric stream.clients is already registered',
    );
    expect(() => registry.timing('stream.clients', 'Again')).toThrow(/stream\.clients/);
    registry.remove('stream.clients');
    registry.gauge('stream.clients', 'Clients', () => 2);
    expect(registry.read().gauges).toEqual({ 'stream.clients': 2 });
  });

  it('throws on a bad name, naming it', () => {
    const registry = quiet();
    for (const bad of ['', '1stream', 'stream..in', 'stream.in.', '.stream', 'stream-in', 'a b'])
      expect(() => registry.gauge(bad, 'Bad', () => 0)).toThrow(
        `bad metric name ${JSON.stringify(bad)}`,
      );
    expect(() => registry.counter('stream.in', '')).toThrow('metric stream.in has no help text');
    expect(registry.read()).toEqual({ counters: {}, gauges: {} });
  });

  it('throws on two names that would be one Prometheus name', () => {
    const registry = quiet();
    registry.gauge('stream.eps.clients', 'EPS clients', () => 0);
    expect(() => registry.gauge('stream.eps_clients', 'Clash', () => 0)).toThrow(
      'metric stream.eps_clients would be rx_streamer_stream_eps_clients in Prometheus, as stream.eps.clients already is',
    );
    expect(() => registry.gauge('stream.eps.clients_total', 'Fine', () => 0)).not.toThrow();
    expect(() => registry.counter('stream.eps.clients', 'Dup')).toThrow(/already registered/);
  });

  it('removes a metric from read(), the Prometheus text and timings$; unknown names are ignored', async () => {
    const registry = quiet();
    registry.counter('stream.messages.in', 'Messages in', () => 5);
    registry.gauge('stream.clients', 'Clients', () => 3);
    const fanout = registry.timing('stream.fanout', 'Fan-out turns');
    const seen: TimingSample[] = [];
    registry.timings$.subscribe((t) => seen.push(t));
    registry.remove('stream.messages.in');
    registry.remove('stream.fanout');
    registry.remove('no.such.metric');
    fanout.record(1);
    expect(seen).toEqual([]);
    expect(registry.read()).toEqual({ counters: {}, gauges: { 'stream.clients': 3 } });
    expect([...(await families(registry)).keys()]).toEqual(['rx_streamer_stream_clients']);
  });

  it('writes counters, gauges and timings as Prometheus text a parser reads back', async () => {
    const registry = quiet();
    let received = 41;
    registry.counter('stream.messages.in', 'Messages taken in from the bus', () => received);
    registry.counter('redis.reconnects', 'Redis reconnects').inc(3);
    registry.gauge('stream.eps.clients', 'Clients of the eps stream', () => 6);
    const fanout = registry.timing('stream.fanout', 'Fan-out writer turns');
    fanout.record(2);
    fanout.record(0.5);
    fanout.record(40);
    received = 42;

    const parsed = await families(registry);
    expect(parsed.get('rx_streamer_stream_messages_in_total')).toEqual({
      name: 'rx_streamer_stream_messages_in_total',
      help: 'Messages taken in from the bus',
      type: 'COUNTER',
      metrics: [{ value: '42' }],
    });
    expect(parsed.get('rx_streamer_redis_reconnects_total')?.metrics).toEqual([{ value: '3' }]);
    expect(parsed.get('rx_streamer_stream_eps_clients')).toEqual({
      name: 'rx_streamer_stream_eps_clients',
      help: 'Clients of the eps stream',
      type: 'GAUGE',
      metrics: [{ value: '6' }],
    });
    const histogram = parsed.get('rx_streamer_stream_fanout_seconds');
    expect(histogram?.type).toBe('HISTOGRAM');
    expect(histogram?.help).toBe('Fan-out writer turns');
    const [series] = histogram?.metrics ?? [];
    expect(series?.count).toBe('3');
    expect(Number(series?.sum)).toBeCloseTo(0.0425, 9);
    expect(series?.buckets).toMatchObject({
      '0.0005': '1',
      '0.0025': '2',
      '0.05': '3',
      '+Inf': '3',
    });
    expect(Object.keys(series?.buckets ?? {})).toHaveLength(14);
    // A counter read again on the next scrape reports the new total, not the sum of scrapes.
    received = 50;
    const again = await families(registry);
    expect(again.get('rx_streamer_stream_messages_in_total')?.metrics).toEqual([{ value: '50' }]);
  });

  it('adds the process metrics, with the prefix, only when they are on', async () => {
    const off = await families(quiet());
    expect([...off.keys()].filter((name) => name.includes('process'))).toEqual([]);
    expect(off.size).toBe(0);

    const registry = new MetricsRegistry();
    registry.gauge('stream.clients', 'Clients', () => 1);
    const on = await families(registry);
    expect(on.get('rx_streamer_stream_clients')?.metrics).toEqual([{ value: '1' }]);
    expect(on.get('rx_streamer_process_cpu_user_seconds_total')?.type).toBe('COUNTER');
    expect(on.get('rx_streamer_nodejs_heap_size_used_bytes')?.type).toBe('GAUGE');
    const startedAt = Number(on.get('rx_streamer_process_start_time_seconds')?.metrics[0]?.value);
    expect(Math.abs(startedAt - (Date.now() / 1000 - process.uptime()))).toBeLessThan(2);
    expect(() => registry.counter('process.cpu.user_seconds', 'Clash')).toThrow(
      /rx_streamer_process_cpu_user_seconds_total in Prometheus, as a process metric/,
    );
    registry.close();
  });

  it('keeps two registries in one process apart', async () => {
    const a = new MetricsRegistry();
    const b = new MetricsRegistry();
    a.gauge('stream.clients', 'Clients', () => 1);
    b.gauge('stream.clients', 'Clients', () => 2);
    expect((await families(a)).get('rx_streamer_stream_clients')?.metrics).toEqual([
      { value: '1' },
    ]);
    expect((await families(b)).get('rx_streamer_stream_clients')?.metrics).toEqual([
      { value: '2' },
    ]);
    a.close();
    b.close();
  });

  it('has the text format content type', () => {
    expect(quiet().contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(quiet().contentType).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
  });

  it('writes its own metrics byte for byte as prom-client writes the same ones', async () => {
    // prom-client is loaded only for the process metrics; the rest is written here, to its format.
    const registry = quiet();
    const prom = new Registry();
    let received = 41.5;
    registry.counter('stream.messages.in', 'Messages in \\ out\nand back', () => received);
    new Counter({
      name: 'rx_streamer_stream_messages_in_total',
      help: 'Messages in \\ out\nand back',
      registers: [prom],
      collect() {
        this.reset();
        this.inc(received);
      },
    });
    registry.counter('redis.reconnects', 'Reconnects', () => -1);
    new Counter({
      name: 'rx_streamer_redis_reconnects_total',
      help: 'Reconnects',
      registers: [prom],
    });
    for (const [name, value] of [
      ['clients', 6],
      ['ratio', 0.1 + 0.2],
      ['nothing', NaN],
      ['up', Infinity],
      ['down', -Infinity],
    ] as const) {
      registry.gauge(`stream.${name}`, `The ${name}`, () => value);
      new Gauge({ name: `rx_streamer_stream_${name}`, help: `The ${name}`, registers: [prom] }).set(
        value,
      );
    }
    const fanout = registry.timing('stream.fanout', 'Fan-out writer turns');
    registry.timing('stream.idle', 'Never recorded');
    const histogram = new Histogram({
      name: 'rx_streamer_stream_fanout_seconds',
      help: 'Fan-out writer turns',
      buckets: [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
      ],
      registers: [prom],
    });
    new Histogram({
      name: 'rx_streamer_stream_idle_seconds',
      help: 'Never recorded',
      buckets: [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
      ],
      registers: [prom],
    });
    for (const ms of [0, 0.1, 0.2, 0.25, 2, 0.5, 40, 999.9, 1000, 1000.1, 5000]) {
      fanout.record(ms);
      histogram.observe(ms / 1000);
    }
    received = 42.25;
    expect(await registry.prometheus()).toBe(await prom.metrics());
    expect(await quiet().prometheus()).toBe(await new Registry().metrics());
  });
});
