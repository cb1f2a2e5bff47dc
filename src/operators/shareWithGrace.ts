// Shared multiplexing: one upstream subscription for any number of subscribers,
// kept alive for a grace period after the last one leaves so that a reconnecting
// client does not cost an UNSUBSCRIBE/SUBSCRIBE round trip.
import { asyncScheduler, share, timer } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerLike } from 'rxjs';

export function shareWithGrace<T>(
  graceMs: number,
  scheduler: SchedulerLike = asyncScheduler,
): MonoTypeOperatorFunction<T> {
  return share<T>({
    resetOnError: true,
    resetOnComplete: true,
    resetOnRefCountZero: graceMs > 0 ? () => timer(graceMs, scheduler) : true,
  });
}
