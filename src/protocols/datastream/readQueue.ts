// The site streams' input: this instance's consumer group read as one stream
// of entries, each kept in its site's history and handed to the hub for its
// site's local clients, and acknowledged once the hub says its frames are on
// those clients' sockets; an entry that cannot be read, or keeps failing, goes
// to the dead letters.
import { Observable, defer, ignoreElements, map, mergeMap, of, switchMap, timer } from 'rxjs';
import type { OperatorFunction, SchedulerLike, Subscription } from 'rxjs';
import type { Logger } from '../../core/logger.js';
import { Outage } from '../../core/outage.js';
import type { Hub } from '../../fanout/Hub.js';
import { acknowledge } from '../../operators/acknowledge.js';
import { routeEntries } from '../../operators/routeEntries.js';
import type { Routed } from '../../operators/routeEntries.js';
import { queueEntries } from '../../sources/queueEntries.js';
import type { QueueEntry, QueueStore } from '../../sources/QueueStore.js';
import type { SiteHistory } from '../../sources/SiteHistory.js';
import type { DatastreamConfig } from './config.js';
import type { DeliveredPosition } from './DeliveredPosition.js';
import { DATASTREAM_FAMILY } from './SiteSession.js';
import { outgoing, parseEntry } from './wire.js';
import type { SiteMessage } from './wire.js';

export type { Outgoing } from './wire.js';

export interface QueueCounts {
  delivered: number;
  acked: number;
  ackFailures: number;
  redelivered: number;
  deadLetters: number;
}

/** After a failed queue command, the next try starts this much later (ms). */
const RETRY_MS = 1_000;
/** Most entries acknowledged in one XACK. */
const ACK_BATCH = 500;
/** Most entries one claim pass takes, the backlog of an earlier run too. */
const CLAIM_COUNT = 1_000;

/** Where recovery on reconnect reads: the site history, and how far this instance delivered. */
export interface Recording {
  readonly history: SiteHistory;
  readonly delivered: DeliveredPosition;
}

export function readQueue(
  store: QueueStore,
  hub: Hub,
  config: DatastreamConfig,
  counts: QueueCounts,
  logger: Logger,
  scheduler: SchedulerLike,
  recording: Recording,
): Subscription {
  /** Hands a message to its site's clients; returns the topics it went to. */
  const deliver = (m: SiteMessage): readonly string[] => {
    // In the history first, on the command connection: a recovery read that
    // stops at this entry (see DeliveredPosition) is sent after it, and sees it.
    recording.history.add(m.site, m.id, m.frame);
    recording.delivered.record(m.id);
    const out = outgoing(m);
    const keys = [m.site, `${m.site}/${m.topic}`];
    for (const key of keys) hub.publish(DATASTREAM_FAMILY, key, out);
    counts.delivered++;
    return keys;
  };

  /** Sends an entry to the dead letters; one that could not be moved stays pending and comes back. */
  const bury = (entry: QueueEntry, reason: string): Observable<never> =>
    defer(async () => {
      try {
        await store.deadLetter(entry, reason);
        counts.deadLetters++;
        logger.warn('a queue entry went to the dead letters', { id: entry.id, reason });
      } catch (err) {
        logger.error('moving an entry to the dead letters failed', {
          id: entry.id,
          error: String(err),
        });
      }
    }).pipe(ignoreElements());

  const outage = new Outage(() => scheduler.now());
  return timer(config.resumeDelayMs, scheduler)
    .pipe(
      switchMap(() =>
        queueEntries(
          store,
          {
            claimIdleMs: config.claimIdleMs,
            claimEveryMs: config.claimEveryMs,
            retryMs: RETRY_MS,
            claimCount: CLAIM_COUNT,
            // One warning per outage, one line when the queue works again.
            onError: (what, err) => {
              if (outage.failed(err))
                logger.warn(`queue ${what} failed; retrying`, { error: String(err) });
              else logger.debug(`queue ${what} still failing`, { error: String(err) });
            },
            onWorking: () => {
              const ended = outage.end();
              if (ended) logger.info('queue working again', { ...ended });
            },
            // Its group had delivered up to where its last run read, and what that
            // run left pending is delivered again by now: all of it is in the history.
            onResumed: () => {
              if (store.groupReadUpTo !== undefined)
                recording.delivered.record(store.groupReadUpTo);
            },
          },
          scheduler,
        ),
      ),
      map((entry) => {
        if (entry.deliveries > 1) counts.redelivered++;
        return entry;
      }),
      routeEntries((e) => parseEntry(e.fields, config.maxBytes, e.id), {
        maxDeliveries: config.maxDeliveries,
      }),
      mergeMap((routed: Routed<QueueEntry, SiteMessage>) =>
        routed.kind === 'dead'
          ? bury(routed.entry, routed.reason)
          : of({ id: routed.entry.id, keys: deliver(routed.message) }),
      ),
      // Every entry of a read is handed to the hub at once (one write per client for
      // all of them); they are acknowledged once the hub has them on the sockets.
      afterWritten((keys) => hub.written(DATASTREAM_FAMILY, keys)),
      acknowledge((ids) => store.ack(ids), { maxBatch: ACK_BATCH, windowMs: 0 }, scheduler),
    )
    .subscribe((result) => {
      if (result.error === undefined) counts.acked += result.items.length;
      else {
        counts.ackFailures += result.items.length;
        logger.warn('acknowledging queue entries failed; they will be delivered again', {
          entries: result.items.length,
          error:
            result.error instanceof Error ? result.error.message : JSON.stringify(result.error),
        });
      }
    });
}

/**
 * Holds the ids delivered in one run of synchronous code (a read's or a
 * claim's entries) and emits them once `written` resolves for all the topics
 * they went to: one wait per batch, not per entry.
 */
function afterWritten(
  written: (keys: readonly string[]) => Promise<void>,
): OperatorFunction<{ readonly id: string; readonly keys: readonly string[] }, string> {
  return (source) =>
    new Observable<string>((subscriber) => {
      let batch: { ids: string[]; keys: Set<string> } | undefined;
      let waiting = 0;
      let ended = false;
      const settle = () => {
        const { ids, keys } = batch as { ids: string[]; keys: Set<string> };
        batch = undefined;
        waiting++;
        written([...keys]).then(
          () => {
            waiting--;
            for (const id of ids) subscriber.next(id);
            if (ended && waiting === 0 && !batch) subscriber.complete();
          },
          (err: unknown) => subscriber.error(err),
        );
      };
      return source.subscribe({
        next: ({ id, keys }) => {
          if (!batch) {
            batch = { ids: [], keys: new Set() };
            queueMicrotask(settle);
          }
          batch.ids.push(id);
          for (const key of keys) batch.keys.add(key);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          ended = true;
          if (waiting === 0 && !batch) subscriber.complete();
        },
      });
    });
}
