// Re-reading on demand: each trigger runs `read`, never two at once; triggers arriving
// mid-read coalesce into one more read, so the last value never predates the last trigger.
import { Observable, defer } from 'rxjs';
import type { ObservableInput, OperatorFunction } from 'rxjs';

/**
 * exhaustMap with one trailing run. exhaustMap alone drops a mid-read trigger and leaves
 * a stale result, switchMap can starve a slow read, concatMap pays a read per trigger.
 * Written as an Observable rather than composed (throttle + concatMap need a feedback
 * Subject) so that the two flags below visibly belong to one subscription.
 */
export function readLatest<T>(read: () => ObservableInput<T>): OperatorFunction<unknown, T> {
  return (triggers) =>
    new Observable<T>((subscriber) => {
      let reading = false;
      // However many triggers a read saw, they cost one more read.
      let queued = false;
      let triggersDone = false;
      const startRead = (): void => {
        reading = true;
        queued = false;
        // defer turns a throwing `read` into an error of the output.
        subscriber.add(
          defer(read).subscribe({
            next: (value) => subscriber.next(value),
            error: (err: unknown) => subscriber.error(err),
            complete: () => {
              reading = false;
              if (queued) startRead();
              else if (triggersDone) subscriber.complete();
            },
          }),
        );
      };
      return triggers.subscribe({
        next: () => {
          if (reading) queued = true;
          else startRead();
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          triggersDone = true;
          // A read in progress (or queued behind it) still runs; its completion ends the output.
          if (!reading) subscriber.complete();
        },
      });
    });
}
