// Acknowledging a durable queue's entries in batches, one ack at a time and in order;
// a failed ack is reported, not thrown, because the queue hands those entries out again.
import { Observable, asyncScheduler, from, take } from 'rxjs';
import type { ObservableInput, OperatorFunction, SchedulerLike, Subscription } from 'rxjs';

export interface AckOptions {
  /** A batch is acknowledged once it holds this many items… */
  readonly maxBatch: number;
  /** …or this long (ms) after its first item, whichever comes first. */
  readonly windowMs: number;
}

export interface AckResult<T> {
  readonly items: readonly T[];
  /** Why the acknowledgement failed; absent when it succeeded. */
  readonly error?: unknown;
}

/**
 * Written as an Observable rather than composed: a batch timer that starts
 * with the batch (bufferTime's run on a fixed clock), one acknowledgement at a
 * time, and an end that waits for the last are three pieces of one state.
 * Unsubscribing drops the open batch unacknowledged, which the queue redelivers.
 */
export function acknowledge<T>(
  ack: (batch: readonly T[]) => ObservableInput<unknown>,
  options: AckOptions,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<T, AckResult<T>> {
  const { maxBatch, windowMs } = options;
  return (source) =>
    new Observable<AckResult<T>>((subscriber) => {
      let open: T[] = [];
      let closing: Subscription | undefined;
      const closed: T[][] = [];
      let inFlight: Subscription | undefined;
      let busy = false;
      let ended: { readonly error?: unknown } | undefined;

      const finishIfDone = (): void => {
        if (!ended || busy || closed.length > 0 || open.length > 0) return;
        if ('error' in ended) subscriber.error(ended.error);
        else subscriber.complete();
      };

      const ackNext = (): void => {
        // A subscriber that left in its `next` must not see another ack start.
        if (busy || subscriber.closed) return;
        const batch = closed.shift();
        if (!batch) return finishIfDone();
        busy = true;
        let settled = false;
        const settle = (result: AckResult<T>): void => {
          if (settled) return;
          settled = true;
          busy = false;
          inFlight = undefined;
          subscriber.next(result);
          ackNext();
        };
        let input: Observable<unknown>;
        try {
          input = from(ack(batch));
        } catch (error) {
          return settle({ items: batch, error });
        }
        const running = input.pipe(take(1)).subscribe({
          next: () => settle({ items: batch }),
          error: (error: unknown) => settle({ items: batch, error }),
          complete: () => settle({ items: batch }),
        });
        // A synchronous ack has settled, and maybe started the next, already.
        if (!settled) inFlight = running;
      };

      const close = (): void => {
        closing?.unsubscribe();
        closing = undefined;
        if (open.length === 0) return;
        closed.push(open);
        open = [];
        ackNext();
      };

      const upstream = source.subscribe({
        next: (item) => {
          open.push(item);
          if (open.length >= maxBatch) close();
          else closing ??= scheduler.schedule(close, windowMs);
        },
        error: (error: unknown) => {
          ended = { error };
          close();
          finishIfDone();
        },
        complete: () => {
          ended = {};
          close();
          finishIfDone();
        },
      });
      return () => {
        upstream.unsubscribe();
        closing?.unsubscribe();
        inFlight?.unsubscribe();
      };
    });
}
