// Routing by resource: one group per namespace key (a detail id, a room), each
// ending after `idleMs` without traffic so idle routes do not accumulate.
import { asyncScheduler, debounceTime, groupBy } from 'rxjs';
import type { GroupedObservable, OperatorFunction, SchedulerLike } from 'rxjs';

export function routeByNamespace<T, K>(
  keyOf: (value: T) => K,
  idleMs: number,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<T, GroupedObservable<K, T>> {
  return groupBy(keyOf, {
    // The duration selector sees every value of its group: it fires, and so
    // ends the group, once the group has been quiet for idleMs.
    duration: (group) => group.pipe(debounceTime(idleMs, scheduler)),
  });
}
