// The one metrics registry: the hub and the protocols register named metrics here,
// and statsd, /admin/status.json and the Prometheus /metrics endpoint all read it.
import { Counter as PromCounter, Gauge as PromGauge, Histogram, Registry } from 'prom-client';
import { collectDefaultMetrics } from 'prom-client';
import { Subject } from 'rxjs';
import type { Observable } from 'rxjs';
import { StreamerError } from './errors.js';

/** A running total counted here, on the hot path. */
/** One reading of a metric, as the samples stream carries it to a sink (statsd). */
export interface MetricSample {
  readonly type: 'gauge' | 'increment' | 'timing';
  readonly name: string;
  readonly value: number;
}

export interface Counter {
  inc(by?: number): void;
  readonly value: number;
}

/** A running total counted elsewhere and read when sampled: it has no `inc()`. */
export interface CounterReading {
  readonly value: number;
}

export interface Timing {
  record(ms: number): void;
}

export interface TimingSample {
  readonly name: string;
  readonly ms: number;
}

export interface MetricValues {
  readonly counters: Record<string, number>;
  readonly gauges: Record<string, number>;
}

export interface MetricsRegistryOptions {
  /** prom-client's default process metrics in the Prometheus text; on unless false. */
  readonly processMetrics?: boolean;
}

const PREFIX = 'rx_streamer_';
// The first character is a letter, so no name is an integer-like key and a plain
// object keeps registration order in `read()`.
const NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/i;
/** Fan-out turns and the like: from 0.1 ms to 1 s, in seconds. */
const TIMING_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

interface Entry {
  readonly kind: 'counter' | 'gauge' | 'timing';
  readonly promName: string;
  readonly read: () => number;
  removed: boolean;
}

// collectDefaultMetrics starts an event-loop delay monitor and a GC observer that it
// gives no way to stop, so they are made once per process and shared by every
// registry that shows them; neither keeps the process alive.
let processRegistry: Registry | undefined;
function sharedProcessRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: PREFIX });
  }
  return processRegistry;
}

function promName(name: string, suffix: string): string {
  const base = PREFIX + name.replace(/[^a-zA-Z0-9_]/g, '_');
  return base.endsWith(suffix) ? base : base + suffix;
}

const NO_VALUE = () => 0;

export class MetricsRegistry {
  readonly timings$: Observable<TimingSample>;
  readonly contentType: string;
  // Private, never prom-client's global registry: two servers in one process must not clash.
  private readonly prom = new Registry();
  private readonly entries = new Map<string, Entry>();
  private readonly byPromName = new Map<string, string>();
  private readonly timings = new Subject<TimingSample>();
  private readonly processMetrics: boolean;

  constructor(options: MetricsRegistryOptions = {}) {
    this.processMetrics = options.processMetrics ?? true;
    this.contentType = this.prom.contentType;
    this.timings$ = this.timings.asObservable();
    if (this.processMetrics) sharedProcessRegistry();
  }

  /** A running total that only grows. With `read`, the count lives elsewhere (a hot-path field) and is read when sampled; without, use the returned Counter's inc(). */
  counter(name: string, help: string): Counter;
  counter(name: string, help: string, read: () => number): CounterReading;
  counter(name: string, help: string, read?: () => number): Counter | CounterReading {
    let count = 0;
    const entry = this.add(name, help, 'counter', '_total', read ?? (() => count));
    new PromCounter({
      name: entry.promName,
      help,
      registers: [this.prom],
      collect() {
        this.reset();
        const value = entry.read();
        // prom-client throws on a falling or non-finite counter; a scrape must not fail.
        if (Number.isFinite(value) && value > 0) this.inc(value);
      },
    });
    if (read)
      return {
        get value() {
          return read();
        },
      };
    return {
      inc(by = 1) {
        if (!Number.isFinite(by) || by < 0)
          throw new StreamerError('RXS_ERR_INTERNAL', `counter ${name} cannot grow by ${by}`);
        count += by;
      },
      get value() {
        return count;
      },
    };
  }

  /**
   * Counters read from the fields of one object, a protocol's tally:
   * `[name, help, field]` each.
   */
  countersOf<K extends string>(
    counts: Readonly<Record<K, number>>,
    table: readonly (readonly [name: string, help: string, field: K])[],
  ): void {
    for (const [name, help, field] of table) this.counter(name, help, () => counts[field]);
  }

  /** A point-in-time value, read when sampled. */
  gauge(name: string, help: string, read: () => number): void {
    const entry = this.add(name, help, 'gauge', '', read);
    new PromGauge({
      name: entry.promName,
      help,
      registers: [this.prom],
      collect() {
        this.set(entry.read());
      },
    });
  }

  /** Durations in ms, sent as they happen (statsd timing) and summarised for Prometheus as a histogram. */
  timing(name: string, help: string): Timing {
    const entry = this.add(name, help, 'timing', '_seconds', NO_VALUE);
    const histogram = new Histogram({
      name: entry.promName,
      help,
      buckets: TIMING_BUCKETS,
      registers: [this.prom],
    });
    const timings = this.timings;
    return {
      record(ms) {
        // Called from the fan-out writer's turn: a bad clock reading is dropped, never thrown.
        if (entry.removed || !Number.isFinite(ms) || ms < 0) return;
        histogram.observe(ms / 1000);
        timings.next({ name, ms });
      },
    };
  }

  /** Unregisters a metric (a protocol being closed); unknown names are ignored. */
  remove(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    entry.removed = true;
    this.entries.delete(name);
    this.byPromName.delete(entry.promName);
    this.prom.removeSingleMetric(entry.promName);
  }

  /** Current values: every counter's total and every gauge's value, by name, in registration order. */
  read(): MetricValues {
    const counters: Record<string, number> = {};
    const gauges: Record<string, number> = {};
    for (const [name, entry] of this.entries) {
      if (entry.kind === 'counter') counters[name] = entry.read();
      else if (entry.kind === 'gauge') gauges[name] = entry.read();
    }
    return { counters, gauges };
  }

  /** The Prometheus text exposition of everything registered, and the process metrics if on. */
  async prometheus(): Promise<string> {
    const own = await this.prom.metrics();
    if (!this.processMetrics) return own;
    return `${own}\n${await sharedProcessRegistry().metrics()}`;
  }

  /**
   * Completes `timings$`. Counters and gauges stay readable, so a last statsd
   * sample taken while shutting down still has them.
   */
  close(): void {
    this.timings.complete();
  }

  private add(
    name: string,
    help: string,
    kind: Entry['kind'],
    suffix: string,
    read: () => number,
  ): Entry {
    if (!NAME.test(name))
      throw new StreamerError('RXS_ERR_INTERNAL', `bad metric name ${JSON.stringify(name)}`);
    if (this.entries.has(name))
      throw new StreamerError('RXS_ERR_INTERNAL', `metric ${name} is already registered`);
    if (!help) throw new StreamerError('RXS_ERR_INTERNAL', `metric ${name} has no help text`);
    const prom = promName(name, suffix);
    const clash =
      this.byPromName.get(prom) ??
      (this.processMetrics && sharedProcessRegistry().getSingleMetric(prom)
        ? 'a process metric'
        : undefined);
    if (clash !== undefined)
      throw new StreamerError(
        'RXS_ERR_INTERNAL',
        `metric ${name} would be ${prom} in Prometheus, as ${clash} already is`,
      );
    const entry: Entry = { kind, promName: prom, read, removed: false };
    this.entries.set(name, entry);
    this.byPromName.set(prom, name);
    return entry;
  }
}
