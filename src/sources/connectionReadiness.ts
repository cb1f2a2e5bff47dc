// Readiness of a source that holds one connection (Redis, Postgres): ready in
// the `ready` state, otherwise why not (`redis reconnecting`), and one shared
// stream of its changes for every caller — each notification stream, say,
// holds a subscription to it.
import { distinctUntilChanged, map, shareReplay } from 'rxjs';
import type { BehaviorSubject, Observable } from 'rxjs';
import type { Readiness } from '../core/readiness.js';

export interface ConnectionReadiness {
  now(): Readiness;
  readonly changes: Observable<Readiness>;
}

export function connectionReadiness<S extends string>(
  what: string,
  state$: BehaviorSubject<S>,
): ConnectionReadiness {
  const now = (): Readiness => {
    const state = state$.value;
    return state === 'ready' ? { ready: true } : { ready: false, reason: `${what} ${state}` };
  };
  return {
    now,
    changes: state$.pipe(
      map(now),
      distinctUntilChanged((a, b) => a.ready === b.ready),
      shareReplay({ bufferSize: 1, refCount: true }),
    ),
  };
}
