// Wiring of the operational sinks: metric samples to statsd and the status
// document to the Redis status hash, each only when configured.
import { Subject, endWith, interval, map, takeUntil, timer } from 'rxjs';
import { redisTarget } from '../sources/redisClient.js';
import { Subscription } from 'rxjs';
import type { Config } from '../core/config.js';
import { adminStatus } from './admin.js';
import type { AdminStatusSource } from './admin.js';
import type { Logger } from '../core/logger.js';
import { StatsdSink } from '../sinks/StatsdSink.js';
import { statusHash } from '../sinks/statusHash.js';
import type { StatusHashSink } from '../sinks/statusHash.js';
import { metricSamples } from './metricSamples.js';
import type { MetricsRegistry } from '../core/metrics.js';

export interface OperationsDeps extends AdminStatusSource {
  readonly config: Config;
  readonly logger: Logger;
  /** What statsd samples: every counter, gauge and timing registered. */
  readonly registry: MetricsRegistry;
}

export interface Operations {
  readonly statsd: StatsdSink | undefined;
  readonly statusHash: StatusHashSink | undefined;
  /** Sends a last sample, flushes statsd and removes this node from the status hash. */
  close(): Promise<void>;
}

export function startOperations(deps: OperationsDeps): Operations {
  const { config, logger } = deps;
  const subscriptions = new Subscription();
  const stop = new Subject<void>();

  let statsd: StatsdSink | undefined;
  if (config.statsdHost) {
    const sink = new StatsdSink({
      host: config.statsdHost,
      port: config.statsdPort,
      prefix: config.statsdPrefix,
      logger,
    });
    const ticks = interval(config.metricsIntervalMs).pipe(takeUntil(stop), endWith(-1));
    subscriptions.add(metricSamples({ registry: deps.registry, ticks }).subscribe(sink));
    statsd = sink;
  }

  let hash: StatusHashSink | undefined;
  const target = redisTarget(config);
  if (config.statusHash && target) {
    const sink = statusHash({ redisUrl: target, node: config.nodeName, logger });
    subscriptions.add(
      timer(0, config.statusReportMs)
        .pipe(map(() => JSON.stringify(adminStatus(deps))))
        .subscribe(sink),
    );
    hash = sink;
  } else if (config.statusHash) {
    logger.warn('STATUS_HASH is on but there is no REDIS_URL: no status hash is written');
  }

  let closing: Promise<void> | undefined;
  return {
    statsd,
    statusHash: hash,
    close: () =>
      (closing ??= (async () => {
        stop.next();
        subscriptions.unsubscribe();
        await Promise.all([statsd?.close(), hash?.close()]);
      })()),
  };
}
