// The switch onto the streams of the latest set: fed diffs (see diffSets), it opens a
// stream per added key, closes one per removed key and merges what the open ones emit.
import { Observable, Subscription, from } from 'rxjs';
import type { ObservableInput, OperatorFunction } from 'rxjs';

/**
 * Not switchMap over the whole set: a key that stays keeps its subscription (a Redis
 * SUBSCRIBE, say), with no gap and no round trip. Removals go first, so a key both
 * removed and added in one diff is opened afresh.
 */
export function mergeKeyed<K, T>(
  open: (key: K) => ObservableInput<T>,
): OperatorFunction<{ readonly added: readonly K[]; readonly removed: readonly K[] }, T> {
  return (diffs) =>
    new Observable<T>((subscriber) => {
      const inners = new Map<K, Subscription>();
      let diffsDone = false;
      const close = (key: K): void => {
        // Unsubscribing also detaches it from the subscriber, so closed keys do not pile up.
        inners.get(key)?.unsubscribe();
        inners.delete(key);
      };
      const openKey = (key: K): void => {
        // Closed: an earlier key of the same diff has already errored the output.
        if (subscriber.closed || inners.has(key)) return;
        // Registered before subscribing, so that an inner completing synchronously is forgotten.
        const inner = new Subscription();
        inners.set(key, inner);
        subscriber.add(inner);
        // Not defer(): a caller holds one inner per key, and defer costs one more subscriber each.
        let stream: Observable<T>;
        try {
          stream = from(open(key));
        } catch (err) {
          subscriber.error(err);
          return;
        }
        inner.add(
          stream.subscribe({
            next: (value) => subscriber.next(value),
            error: (err: unknown) => subscriber.error(err),
            complete: () => {
              close(key);
              if (diffsDone && inners.size === 0) subscriber.complete();
            },
          }),
        );
      };
      return diffs.subscribe({
        next: ({ added, removed }) => {
          for (const key of removed) close(key);
          for (const key of added) openKey(key);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          diffsDone = true;
          if (inners.size === 0) subscriber.complete();
        },
      });
    });
}
