// Site-stream history: the frames of a site's recent queue entries, kept under
// the entries' own ids, so a client that drops resumes from the last id it got
// (RedisSiteHistory on Redis, MemorySiteHistory beside the in-process queue).

/** One kept frame of a site, under its queue entry's id. */
export interface SiteHistoryEntry {
  readonly id: string;
  readonly frame: string;
}

export type SiteRecovery =
  /** Every entry after the position up to `upTo`, in order. */
  | { readonly recovered: true; readonly entries: readonly SiteHistoryEntry[] }
  /** The position cannot be resumed from; `reason` says why, for the client and the logs. */
  | { readonly recovered: false; readonly reason: string };

export interface SiteHistory {
  /**
   * Keeps a frame under its entry id. Fire-and-forget, and idempotent: adding
   * an id that is already kept (by this instance, or by another that read the
   * same entry) changes nothing.
   */
  add(site: string, id: string, frame: string): void;
  /**
   * The entries with `since` < id <= `upTo`, when the history still reaches
   * back to `since` (it holds an entry at or before it, so nothing after it was
   * trimmed) and there are at most `max` of them; unrecovered otherwise —
   * never a partial claim. Sees every add() made before it was called.
   */
  since(site: string, since: string, upTo: string, max: number): Promise<SiteRecovery>;
}

export interface SiteHistoryOptions {
  /** Entries kept per site (HISTORY_SIZE). */
  readonly size: number;
  /** How long a site's history is kept after its last entry (HISTORY_TTL_S). */
  readonly ttlS: number;
}

/** The largest part of a stream entry id (an unsigned 64-bit integer). */
const MAX_PART = 2n ** 64n - 1n;
const ENTRY_ID = /^(\d{1,20})-(\d{1,20})$/;

/** An entry id's two parts, or undefined for text that is not one (`<ms>-<seq>`, each < 2^64). */
function parts(id: string): readonly [bigint, bigint] | undefined {
  const m = ENTRY_ID.exec(id);
  if (!m) return undefined;
  const ms = BigInt(m[1] as string);
  const seq = BigInt(m[2] as string);
  return ms <= MAX_PART && seq <= MAX_PART ? [ms, seq] : undefined;
}

/** Whether text is a stream entry id Redis takes, `<ms>-<seq>`. */
export const isEntryId = (id: string): boolean => parts(id) !== undefined;

/** Orders two entry ids as the stream does: negative when `a` comes first. */
export function compareEntryIds(a: string, b: string): number {
  const [am, as] = parts(a) ?? [0n, 0n];
  const [bm, bs] = parts(b) ?? [0n, 0n];
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

/** The key of a site's history, hash-tagged on the site so a Redis Cluster keeps it in one slot. */
export const siteHistoryKey = (site: string): string => `rxs:site-history:{${site}}`;

/** Why a position is not recovered, in the words clients and logs get. */
export const UNRECOVERED = {
  gone: 'the history no longer reaches back to it',
  tooMany: (max: number) => `more than ${max} messages followed it (RECOVERY_MAX)`,
  incomplete: 'the history misses messages that followed it (a write to it failed)',
} as const;
