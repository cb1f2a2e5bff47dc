// Subscribes a source again after it errors or completes, `delayMs` later (at
// once for 0), for ever: the one way the server keeps a feed, a monitor or a
// chain of hooks going. Each restart is told to `onError` or `onComplete`.
import { Observable, asyncScheduler } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerLike, Subscription } from 'rxjs';

export interface ResubscribeOptions {
  readonly delayMs: number;
  /** Told of each error before the source is subscribed again. */
  readonly onError?: (error: unknown) => void;
  /** Told of each completion before the source is subscribed again. */
  readonly onComplete?: () => void;
  /** Stops resubscribing when it returns true (the owner is closing, say): the output completes. */
  readonly stopped?: () => boolean;
}

/**
 * `retry` and `repeat` with a delay, written as one subscriber: the hub keeps a
 * feed like this for every topic (a channel per user, say), and the composed
 * pair cost each of them a dozen closures and subscribers more.
 */
export function resubscribe<T>(
  options: ResubscribeOptions,
  scheduler: SchedulerLike = asyncScheduler,
): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let current: Subscription | undefined;
      let waiting: Subscription | undefined;
      // A source that ends while it is being subscribed, with no delay, is
      // subscribed again by the loop in subscribe(), not by a nested call.
      let subscribing = false;
      let again = false;
      const ended = (): void => {
        current = undefined;
        if (options.stopped?.() === true) return subscriber.complete();
        if (options.delayMs > 0) {
          waiting = scheduler.schedule(() => {
            waiting = undefined;
            subscribe();
          }, options.delayMs);
        } else if (subscribing) again = true;
        else subscribe();
      };
      const observer = {
        next: (value: T) => subscriber.next(value),
        error: (err: unknown) => {
          options.onError?.(err);
          ended();
        },
        complete: () => {
          options.onComplete?.();
          ended();
        },
      };
      const subscribe = (): void => {
        do {
          again = false;
          subscribing = true;
          const subscription = source.subscribe(observer);
          subscribing = false;
          if (!subscription.closed) current = subscription;
        } while (again && !subscriber.closed);
      };
      subscribe();
      return () => {
        current?.unsubscribe();
        waiting?.unsubscribe();
      };
    });
}
