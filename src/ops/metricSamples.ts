// The service's metrics as a stream: on every tick, each registered gauge and the
// growth of each counter since the previous tick; between ticks, every recorded
// timing. A sink (statsd) subscribes to it like to any other stream.
import { Observable, asyncScheduler, interval, map, merge } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import type { MetricSample, MetricsRegistry } from '../core/metrics.js';

export type { MetricSample } from '../core/metrics.js';

export interface MetricSamplesOptions {
  readonly registry: MetricsRegistry;
  readonly intervalMs?: number;
  /** What drives the sampling; `interval(intervalMs)` unless given (e.g. to add a final tick). */
  readonly ticks?: Observable<unknown>;
  readonly scheduler?: SchedulerLike;
}

export function metricSamples(options: MetricSamplesOptions): Observable<MetricSample> {
  const { registry, intervalMs = 10_000, scheduler = asyncScheduler } = options;
  const ticks = options.ticks ?? interval(intervalMs, scheduler);

  const sampled = new Observable<MetricSample>((subscriber) => {
    // Totals start from the moment of subscription, so a late sink does not
    // report the whole history as one burst; a counter registered later starts
    // from its value when first seen, for the same reason.
    let previous = registry.read().counters;
    return ticks.subscribe({
      next: () => {
        const { counters, gauges } = registry.read();
        for (const [name, value] of Object.entries(gauges))
          subscriber.next({ type: 'gauge', name, value });
        for (const [name, value] of Object.entries(counters)) {
          const delta = value - (previous[name] ?? value);
          if (delta > 0) subscriber.next({ type: 'increment', name, value: delta });
        }
        previous = counters;
      },
      error: (err: unknown) => subscriber.error(err),
      complete: () => subscriber.complete(),
    });
  });

  return merge(
    sampled,
    registry.timings$.pipe(
      map(({ name, ms }): MetricSample => ({
        type: 'timing',
        name,
        value: Math.round(ms * 1000) / 1000,
      })),
    ),
  );
}
