// Set changes: a stream of whole sets (a user's channels, say) becomes what was added
// and removed since the previous set, which is what mergeKeyed opens and closes.
import { filter, pipe, scan } from 'rxjs';
import type { OperatorFunction } from 'rxjs';

export interface SetDiff<K> {
  /** Keys in this set and not in the previous one (every key of the first set). */
  readonly added: readonly K[];
  /** Keys in the previous set and not in this one. */
  readonly removed: readonly K[];
  /** The whole set now. */
  readonly current: ReadonlySet<K>;
  /** Whether this is the first set seen. */
  readonly first: boolean;
}

export function diffSets<K>(): OperatorFunction<Iterable<K>, SetDiff<K>> {
  return pipe(
    // scan starts from its seed on every subscription: subscribers never share a previous set.
    scan<Iterable<K>, SetDiff<K>, undefined>(
      (previous, keys) => setDiff(previous?.current, keys),
      undefined,
    ),
    // The first set always goes out, even empty, so a consumer learns where it starts.
    filter((change) => change.first || change.added.length > 0 || change.removed.length > 0),
  );
}

/**
 * What changed from `previous` (undefined before the first set) to `keys`: the
 * step diffSets takes, for code that holds the previous set itself.
 */
export function setDiff<K>(previous: ReadonlySet<K> | undefined, keys: Iterable<K>): SetDiff<K> {
  // A copy, so a caller that mutates the Set it passed cannot rewrite `current` afterwards.
  const current = new Set(keys);
  if (previous === undefined) return { added: [...current], removed: [], current, first: true };
  return {
    added: [...current].filter((key) => !previous.has(key)),
    removed: [...previous].filter((key) => !current.has(key)),
    current,
    first: false,
  };
}
