// Routing by resource: one group per namespace key (a detail id, a room), each
// ending after `idleMs` without traffic so idle routes do not accumulate.
import { Subject, asyncScheduler, debounceTime, defer, finalize, groupBy, takeUntil } from 'rxjs';
import type { GroupedObservable, OperatorFunction, SchedulerLike } from 'rxjs';

export function routeByNamespace<T, K>(
  keyOf: (value: T) => K,
  idleMs: number,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<T, GroupedObservable<K, T>> {
  return (source) =>
    defer(() => {
      // groupBy keeps its source subscribed while any group has a subscriber, and
      // the idle timers below subscribe to every group: without this, leaving would
      // keep the upstream (a Redis PSUBSCRIBE) alive until every group went idle.
      const released = new Subject<void>();
      return source.pipe(
        takeUntil(released),
        groupBy(keyOf, {
          // The duration selector sees every value of its group: it fires, and so
          // ends the group, once the group has been quiet for idleMs.
          duration: (group) => group.pipe(debounceTime(idleMs, scheduler)),
        }),
        finalize(() => released.next()),
      );
    });
}
