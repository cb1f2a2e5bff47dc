// GET /metrics over a real HTTP server: an express app holding only the
// Prometheus router, fetched with fetch and read back by a Prometheus text parser.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import parsePrometheus from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../src/core/metrics.js';
import { prometheusRouter } from '../../src/ops/prometheus.js';

let server: Server | undefined;
let registry: MetricsRegistry | undefined;
afterEach(async () => {
  registry?.close();
  if (server) {
    server.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  }
  server = registry = undefined;
});

async function serve(metrics: MetricsRegistry): Promise<string> {
  const app = express();
  app.use(prometheusRouter(metrics));
  server = createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('GET /metrics', () => {
  it('answers the registry as Prometheus text, uncached', async () => {
    registry = new MetricsRegistry();
    let received = 7;
    registry.counter('stream.messages.in', 'Messages taken in from the bus', () => received);
    registry.gauge('stream.clients', 'Connected clients', () => 4);
    registry.timing('stream.fanout', 'Fan-out writer turns').record(3);
    const url = await serve(registry);
    received = 9;

    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(registry.contentType);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const parsed = new Map(parsePrometheus(await res.text()).map((f) => [f.name, f]));
    expect(parsed.get('rx_streamer_stream_messages_in_total')).toEqual({
      name: 'rx_streamer_stream_messages_in_total',
      help: 'Messages taken in from the bus',
      type: 'COUNTER',
      metrics: [{ value: '9' }],
    });
    expect(parsed.get('rx_streamer_stream_clients')?.metrics).toEqual([{ value: '4' }]);
    const fanout = parsed.get('rx_streamer_stream_fanout_seconds')?.metrics[0];
    expect(fanout?.count).toBe('1');
    expect(Number(fanout?.sum)).toBeCloseTo(0.003, 9);
    expect(parsed.get('rx_streamer_process_resident_memory_bytes')?.type).toBe('GAUGE');
  });

  it('reads the registry anew on every request', async () => {
    registry = new MetricsRegistry({ processMetrics: false });
    const opened = registry.counter('stream.connections.opened', 'Connections opened');
    const url = await serve(registry);
    opened.inc(2);
    const first = parsePrometheus(await (await fetch(`${url}/metrics`)).text());
    opened.inc(5);
    const second = parsePrometheus(await (await fetch(`${url}/metrics`)).text());
    expect(first).toEqual([
      {
        name: 'rx_streamer_stream_connections_opened_total',
        help: 'Connections opened',
        type: 'COUNTER',
        metrics: [{ value: '2' }],
      },
    ]);
    expect(second[0]?.metrics).toEqual([{ value: '7' }]);
  });

  it('answers only GET /metrics', async () => {
    registry = new MetricsRegistry({ processMetrics: false });
    const url = await serve(registry);
    expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${url}/other`)).status).toBe(404);
  });
});
