// The one metrics registry: the hub and the protocols register named metrics here,
// and statsd, /admin/status.json and the Prometheus /metrics endpoint all read it.
// Its own metrics are written in the Prometheus text format here, as prom-client
// writes them; prom-client is loaded only for its process metrics.
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Registry } from 'prom-client';
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

/** The Prometheus text format's content type, version 0.0.4 (prom-client's). */
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const PREFIX = 'rx_streamer_';
// The first character is a letter, so no name is an integer-like key and a plain
// object keeps registration order in `read()`.
const NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/i;
/** Fan-out turns and the like: from 0.1 ms to 1 s, in seconds. */
const TIMING_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

/** A timing's observations, in seconds: how many fell in each bucket (not cumulative). */
interface Histogram {
  readonly buckets: number[];
  sum: number;
  count: number;
}

interface Entry {
  readonly kind: 'counter' | 'gauge' | 'timing';
  readonly promName: string;
  readonly help: string;
  readonly read: () => number;
  readonly histogram?: Histogram;
  removed: boolean;
}

// collectDefaultMetrics starts an event-loop delay monitor and a GC observer that it
// gives no way to stop, so they are made once per process and shared by every
// registry that shows them; neither keeps the process alive. prom-client is
// required (synchronously) the first time a registry asks for them.
let processRegistry: Registry | undefined;
function sharedProcessRegistry(): Registry {
  if (!processRegistry) {
    const prom = createRequire(import.meta.url)('prom-client') as typeof PromClient;
    processRegistry = new prom.Registry();
    prom.collectDefaultMetrics({ register: processRegistry, prefix: PREFIX });
  }
  return processRegistry;
}

/** Counts one observation (s) in the first bucket whose bound it does not pass. */
function observe(histogram: Histogram, seconds: number): void {
  const i = TIMING_BUCKETS.findIndex((bound) => seconds <= bound);
  if (i >= 0) histogram.buckets[i] = (histogram.buckets[i] ?? 0) + 1;
  histogram.sum += seconds;
  histogram.count++;
}

/** A sample value as prom-client writes it. */
function valueText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return String(value);
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** One metric's lines of the text format: HELP, TYPE and its samples. */
function exposition(entry: Entry): string {
  const name = entry.promName;
  const lines = [`# HELP ${name} ${escapeHelp(entry.help)}`];
  if (entry.kind === 'counter') {
    // A counter never falls: a reading that is not a positive number is shown as 0.
    const value = entry.read();
    lines.push(
      `# TYPE ${name} counter`,
      `${name} ${Number.isFinite(value) && value > 0 ? valueText(value) : '0'}`,
    );
  } else if (entry.kind === 'gauge') {
    lines.push(`# TYPE ${name} gauge`, `${name} ${valueText(entry.read())}`);
  } else if (entry.histogram) {
    const { buckets, sum, count } = entry.histogram;
    lines.push(`# TYPE ${name} histogram`);
    let below = 0;
    TIMING_BUCKETS.forEach((bound, i) => {
      below += buckets[i] ?? 0;
      lines.push(`${name}_bucket{le="${bound}"} ${below}`);
    });
    lines.push(
      `${name}_bucket{le="+Inf"} ${count}`,
      `${name}_sum ${valueText(sum)}`,
      `${name}_count ${count}`,
    );
  }
  return lines.join('\n');
}

function promName(name: string, suffix: string): string {
  const base = PREFIX + name.replace(/[^a-zA-Z0-9_]/g, '_');
  return base.endsWith(suffix) ? base : base + suffix;
}

const NO_VALUE = () => 0;

export class MetricsRegistry {
  readonly timings$: Observable<TimingSample>;
  readonly contentType = CONTENT_TYPE;
  private readonly entries = new Map<string, Entry>();
  private readonly byPromName = new Map<string, string>();
  private readonly timings = new Subject<TimingSample>();
  private readonly processMetrics: boolean;

  constructor(options: MetricsRegistryOptions = {}) {
    this.processMetrics = options.processMetrics ?? true;
    this.timings$ = this.timings.asObservable();
    if (this.processMetrics) sharedProcessRegistry();
  }

  /** A running total that only grows. With `read`, the count lives elsewhere (a hot-path field) and is read when sampled; without, use the returned Counter's inc(). */
  counter(name: string, help: string): Counter;
  counter(name: string, help: string, read: () => number): CounterReading;
  counter(name: string, help: string, read?: () => number): Counter | CounterReading {
    let count = 0;
    this.add(name, help, 'counter', '_total', read ?? (() => count));
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
    this.add(name, help, 'gauge', '', read);
  }

  /** Durations in ms, sent as they happen (statsd timing) and summarised for Prometheus as a histogram. */
  timing(name: string, help: string): Timing {
    const histogram: Histogram = { buckets: TIMING_BUCKETS.map(() => 0), sum: 0, count: 0 };
    const entry = this.add(name, help, 'timing', '_seconds', NO_VALUE, histogram);
    const timings = this.timings;
    return {
      record(ms) {
        // Called from the fan-out writer's turn: a bad clock reading is dropped, never thrown.
        if (entry.removed || !Number.isFinite(ms) || ms < 0) return;
        observe(histogram, ms / 1000);
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
    const own = `${[...this.entries.values()].map(exposition).join('\n\n')}\n`;
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
    histogram?: Histogram,
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
    const entry: Entry = { kind, promName: prom, help, read, histogram, removed: false };
    this.entries.set(name, entry);
    this.byPromName.set(prom, name);
    return entry;
  }
}
