// A durable queue's entries for this consumer, as one cold Observable: the group
// made (retried until the store answers), what earlier runs left pending claimed
// first and in order, then every new entry, with entries left pending too long
// claimed again on a clock that also trims the stream. Nothing is acknowledged
// here: that is the reader's, once it has handed an entry on.
import {
  EMPTY,
  asyncScheduler,
  catchError,
  concat,
  defer,
  exhaustMap,
  identity,
  merge,
  mergeAll,
  retry,
  switchMap,
  tap,
  timer,
} from 'rxjs';
import type { MonoTypeOperatorFunction, Observable, SchedulerLike } from 'rxjs';
import { pollEntries } from '../operators/pollEntries.js';
import type { QueueEntry, QueueStore } from './QueueStore.js';

export interface QueueEntriesOptions {
  /** An entry pending this long is claimed again (its consumer died, or its delivery failed). */
  readonly claimIdleMs: number;
  /** How often pending entries are looked for and the stream trimmed. */
  readonly claimEveryMs: number;
  /** After a failed command, the next try starts this much later. */
  readonly retryMs: number;
  /** Most entries claimed in one pass; the backlog of earlier runs too. */
  readonly claimCount: number;
  /** Told of each failure (the reading goes on). */
  readonly onError: (what: 'open' | 'read' | 'claim', err: unknown) => void;
  /** Told of each command that worked (an outage is over). */
  readonly onWorking?: () => void;
  /**
   * Told once the entries earlier runs left pending were emitted again, before
   * the first read of new ones: everything the group had read is delivered.
   */
  readonly onResumed?: () => void;
}

/** Tells `onWorking` of each value: a command answered. */
function worked<T>(onWorking: (() => void) | undefined): MonoTypeOperatorFunction<T> {
  return onWorking ? tap<T>(() => onWorking()) : identity;
}

export function queueEntries(
  store: QueueStore,
  options: QueueEntriesOptions,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<QueueEntry> {
  const { claimIdleMs, claimEveryMs, retryMs, claimCount, onError } = options;
  const retried = <T>(what: 'open' | 'claim', run: () => Promise<T>) =>
    defer(run).pipe(
      worked(options.onWorking),
      retry({
        delay: (err: unknown) => {
          onError(what, err);
          return timer(retryMs, scheduler);
        },
      }),
    );
  const fresh = defer(() => store.readNew()).pipe(
    worked(options.onWorking),
    pollEntries({ retryMs, onError: (err) => onError('read', err) }, scheduler),
  );
  const stale = timer(claimEveryMs, claimEveryMs, scheduler).pipe(
    exhaustMap(() =>
      defer(async () => {
        await store.trim();
        return store.claim(claimIdleMs, claimCount);
      }).pipe(
        worked(options.onWorking),
        catchError((err: unknown) => {
          onError('claim', err);
          return EMPTY;
        }),
      ),
    ),
    mergeAll(),
  );
  return retried('open', () => store.open()).pipe(
    switchMap(() =>
      concat(
        // Pending with consumers of earlier runs of this instance: one pass over all
        // of them (an idle time of 0 would claim this pass's own entries again).
        retried('claim', () => store.claim(0, claimCount)).pipe(mergeAll()),
        defer(() => {
          options.onResumed?.();
          return merge(fresh, stale);
        }),
      ),
    ),
  );
}
