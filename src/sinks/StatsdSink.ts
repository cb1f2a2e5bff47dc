// The statsd sink (graphite): writes metric samples through hot-shots over UDP.
// Plain statsd lines, no Datadog extensions. A dead or unknown statsd host is
// logged now and then and otherwise ignored: metrics never affect streaming.
// hot-shots is imported only when a sink is made (STATSD_HOST).
import type { StatsD } from 'hot-shots';
import type { Observer } from 'rxjs';
import { silentLogger } from '../core/logger.js';
import type { Logger } from '../core/logger.js';
import type { MetricSample } from '../core/metrics.js';

export interface StatsdSinkOptions {
  readonly host: string;
  readonly port?: number;
  /** Prepended to every name, e.g. `rx-streamer.`. */
  readonly prefix?: string;
  /** Lines are packed into datagrams of at most this many bytes. */
  readonly maxBufferSize?: number;
  /** A partly filled datagram leaves after this long (ms). */
  readonly bufferFlushIntervalMs?: number;
  readonly logger?: Logger;
}

/** One error line per minute at most: a missing statsd must not flood the logs. */
const ERROR_LOG_INTERVAL_MS = 60_000;
/** Samples kept while hot-shots is being imported, at most (the first moments of a start). */
const PENDING_MAX = 1_000;

export class StatsdSink implements Observer<MetricSample> {
  samplesSent = 0;
  errors = 0;
  private client: StatsD | undefined;
  /** Samples given before the client exists; undefined once the import has settled. */
  private pending: MetricSample[] | undefined = [];
  private readonly loading: Promise<void>;
  private readonly log: Logger;
  private lastErrorLoggedAt = -Infinity;
  private closed: Promise<void> | undefined;

  constructor(options: StatsdSinkOptions) {
    this.log = (options.logger ?? silentLogger).child({ component: 'statsd' });
    this.loading = import('hot-shots').then(
      ({ default: StatsDClient }) => {
        this.client = new StatsDClient({
          host: options.host,
          port: options.port ?? 8125,
          prefix: options.prefix ?? '',
          protocol: 'udp',
          datadog: false,
          telegraf: false,
          includeDataDogTags: false,
          maxBufferSize: options.maxBufferSize ?? 1_400,
          bufferFlushInterval: options.bufferFlushIntervalMs ?? 1_000,
          errorHandler: (err) => this.failed(err),
        });
        const waiting = this.pending ?? [];
        this.pending = undefined;
        for (const sample of waiting) this.send(sample);
      },
      (err: unknown) => {
        this.pending = undefined;
        this.log.error('loading hot-shots failed; no metrics', { error: String(err) });
      },
    );
    this.log.info('sending metrics to statsd', {
      host: options.host,
      port: options.port ?? 8125,
      prefix: options.prefix ?? '',
    });
  }

  next(sample: MetricSample): void {
    if (this.closed) return;
    this.samplesSent++;
    if (this.client) this.send(sample);
    else if (this.pending && this.pending.length < PENDING_MAX) this.pending.push(sample);
  }

  error(err: unknown): void {
    this.log.error('metric samples failed; no more metrics', { error: String(err) });
  }

  complete(): void {
    // Nothing to do: close() flushes.
  }

  /** Sends what is buffered and closes the socket; resolves within `timeoutMs` regardless. */
  close(timeoutMs = 2_000): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      const bound = setTimeout(resolve, timeoutMs);
      bound.unref();
      const done = () => {
        clearTimeout(bound);
        resolve();
      };
      // Samples given before now are sent first, once the client is there.
      void this.loading.then(() => {
        if (!this.client) return done();
        try {
          this.client.close((err?: Error) => {
            if (err) this.failed(err);
            done();
          });
        } catch (err) {
          this.failed(err as Error);
          done();
        }
      });
    });
    return this.closed;
  }

  private send(sample: MetricSample): void {
    if (!this.client) return;
    try {
      if (sample.type === 'gauge') this.client.gauge(sample.name, sample.value);
      else if (sample.type === 'increment') this.client.increment(sample.name, sample.value);
      else this.client.timing(sample.name, sample.value);
    } catch (err) {
      this.failed(err as Error);
    }
  }

  private failed(err: Error): void {
    this.errors++;
    const now = Date.now();
    if (now - this.lastErrorLoggedAt < ERROR_LOG_INTERVAL_MS) return;
    this.lastErrorLoggedAt = now;
    this.log.warn('statsd send failed; metrics are being lost', {
      error: err.message,
      errors: this.errors,
    });
  }
}
