// The service's metrics as a stream: on every tick, one gauge per SSE family and
// the growth of each running total since the previous tick; between ticks, the
// hub's fan-out timings. A sink (statsd) subscribes to it like to any other stream.
import { Observable, asyncScheduler, interval, map, merge, mergeMap } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import type { SseHub } from '../fanout/Hub.js';

export interface MetricSample {
  readonly type: 'gauge' | 'increment' | 'timing';
  readonly name: string;
  readonly value: number;
}

export interface MetricSamplesOptions {
  readonly hub: SseHub;
  /** Gauge names per family where `stream.<family>.clients` would read badly. */
  readonly familyNames?: Readonly<Record<string, string>>;
  /** Running totals (messages in, reconnects…) read on each tick; their growth is sent. */
  readonly totals?: () => Readonly<Record<string, number>>;
  /** Point-in-time values (live routes…) read on each tick. */
  readonly gauges?: () => Readonly<Record<string, number>>;
  readonly intervalMs?: number;
  /** What drives the sampling; `interval(intervalMs)` unless given (e.g. to add a final tick). */
  readonly ticks?: Observable<unknown>;
  readonly scheduler?: SchedulerLike;
}

export function metricSamples(options: MetricSamplesOptions): Observable<MetricSample> {
  const { hub, intervalMs = 10_000, scheduler = asyncScheduler } = options;
  const familyNames: Readonly<Record<string, string>> = {
    details: 'detail',
    ...options.familyNames,
  };
  const ticks = options.ticks ?? interval(intervalMs, scheduler);
  const hubTotals = () => ({
    'stream.messages.broadcast': hub.stats.msgsBroadcast,
    'stream.messages.delivered': hub.stats.deliveries,
    'stream.bytes.written': hub.stats.bytesWritten,
    'stream.slow_clients.dropped': hub.stats.slowClientsDropped,
    'stream.connections.opened': hub.stats.connectionsOpened,
    'stream.connections.expired': hub.stats.streamsExpired,
    ...options.totals?.(),
  });

  const sampled = new Observable<MetricSample[]>((subscriber) => {
    // Totals start from the moment of subscription, so a late sink does not
    // report the whole history as one burst.
    let previous: Readonly<Record<string, number>> = hubTotals();
    return ticks
      .pipe(
        map(() => {
          const out: MetricSample[] = [];
          for (const family of hub.familyNames()) {
            const name = `stream.${familyNames[family] ?? family}.clients`;
            out.push({ type: 'gauge', name, value: hub.clientCount(family) });
          }
          out.push({ type: 'gauge', name: 'stream.clients', value: hub.clientCount() });
          for (const [name, value] of Object.entries(options.gauges?.() ?? {}))
            out.push({ type: 'gauge', name, value });
          const totals = hubTotals();
          for (const [name, value] of Object.entries(totals)) {
            const delta = value - (previous[name] ?? 0);
            if (delta > 0) out.push({ type: 'increment', name, value: delta });
          }
          previous = totals;
          return out;
        }),
      )
      .subscribe(subscriber);
  });

  return merge(
    sampled.pipe(mergeMap((samples) => samples)),
    hub.fanoutMs$.pipe(
      map((ms): MetricSample => ({
        type: 'timing',
        name: 'stream.fanout',
        value: Math.round(ms * 1000) / 1000,
      })),
    ),
  );
}
