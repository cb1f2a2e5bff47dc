// Reading a durable queue: one read repeated for as long as the output is subscribed,
// its batches flattened in order, a failed read tried again later; it never ends on its own.
import { asyncScheduler, defer, mergeMap, of, repeat, retry, tap, timer } from 'rxjs';
import type { OperatorFunction, SchedulerLike } from 'rxjs';

export interface PollOptions {
  /** After a read fails, the next starts this much later (ms). */
  readonly retryMs: number;
  /**
   * After a read that yielded no entries, the next starts this much later (ms);
   * 0: at once. Reads that block (XREADGROUP BLOCK) need none; it keeps a store
   * that answers at once from spinning.
   */
  readonly idleMs?: number;
  /** Told of each failed read (a throwing onError is ignored). */
  readonly onError?: (err: unknown) => void;
}

/**
 * Reads are expected to be asynchronous (a command to Redis): a read that
 * yields entries synchronously every time would repeat forever in one turn.
 */
export function pollEntries<T>(
  options: PollOptions,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<T[], T> {
  const { retryMs, idleMs = 0, onError } = options;
  return (read) =>
    defer(() => {
      // Whether the latest read yielded anything, for the pause before the next.
      let yielded = false;
      return defer(() => {
        yielded = false;
        return read;
      }).pipe(
        tap((batch) => {
          if (batch.length > 0) yielded = true;
        }),
        retry({
          delay: (err: unknown) => {
            try {
              onError?.(err);
            } catch {
              // Reporting a failure must not stop the reading.
            }
            return timer(retryMs, scheduler);
          },
        }),
        repeat({ delay: () => (yielded || idleMs <= 0 ? of(0) : timer(idleMs, scheduler)) }),
        mergeMap((batch) => batch),
      );
    });
}
