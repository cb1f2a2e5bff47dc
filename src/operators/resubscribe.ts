// Subscribes a source again after it errors or completes, `delayMs` later (at
// once for 0), for ever: the one way the server keeps a feed, a monitor or a
// chain of hooks going. Each restart is told to `onError` or `onComplete`.
import { EMPTY, of, pipe, repeat, retry, timer } from 'rxjs';
import type { MonoTypeOperatorFunction, Observable, SchedulerLike } from 'rxjs';
import { asyncScheduler } from 'rxjs';

export interface ResubscribeOptions {
  readonly delayMs: number;
  /** Told of each error before the source is subscribed again. */
  readonly onError?: (error: unknown) => void;
  /** Told of each completion before the source is subscribed again. */
  readonly onComplete?: () => void;
  /** Stops resubscribing when it returns true (the owner is closing, say). */
  readonly stopped?: () => boolean;
}

export function resubscribe<T>(
  options: ResubscribeOptions,
  scheduler: SchedulerLike = asyncScheduler,
): MonoTypeOperatorFunction<T> {
  // A notifier that completes without a value ends the output: that is how `stopped` stops it.
  const again = (): Observable<unknown> =>
    options.stopped?.() === true
      ? EMPTY
      : options.delayMs === 0
        ? of(0)
        : timer(options.delayMs, scheduler);
  return pipe(
    retry({
      delay: (error: unknown) => {
        options.onError?.(error);
        return again();
      },
    }),
    repeat({
      delay: () => {
        options.onComplete?.();
        return again();
      },
    }),
  );
}
