// Site history in the process, beside the embedded queue: the semantics of
// RedisSiteHistory (entries under their ids, a second add of an id ignored, a
// bounded history per site that expires after its last entry) on a Map.
import { UNRECOVERED, compareEntryIds } from './SiteHistory.js';
import type {
  SiteHistory,
  SiteHistoryEntry,
  SiteHistoryOptions,
  SiteRecovery,
} from './SiteHistory.js';

/** Adds between two sweeps of expired sites. */
const SWEEP_EVERY = 1_000;

interface Kept {
  readonly entries: SiteHistoryEntry[];
  /** The highest id ever added: as in a Redis stream, no id at or below it is taken again. */
  top: string;
  /** When the history expires (ms since the epoch). */
  until: number;
}

export class MemorySiteHistory implements SiteHistory {
  private readonly sites = new Map<string, Kept>();
  private adds = 0;

  constructor(
    private readonly options: SiteHistoryOptions,
    private readonly now: () => number = Date.now,
  ) {}

  add(site: string, id: string, frame: string): void {
    const now = this.now();
    // Now and then, expired sites go: memory follows the live sites.
    if (++this.adds % SWEEP_EVERY === 0)
      for (const [name, k] of this.sites) if (now >= k.until) this.sites.delete(name);
    let kept = this.live(site);
    if (kept && compareEntryIds(id, kept.top) <= 0) return;
    if (!kept) this.sites.set(site, (kept = { entries: [], top: id, until: 0 }));
    kept.entries.push({ id, frame });
    kept.top = id;
    if (kept.entries.length > this.options.size)
      kept.entries.splice(0, kept.entries.length - this.options.size);
    kept.until = now + this.options.ttlS * 1000;
  }

  since(site: string, since: string, upTo: string, max: number): Promise<SiteRecovery> {
    const entries = this.live(site)?.entries ?? [];
    const first = entries[0];
    if (!first || compareEntryIds(first.id, since) > 0)
      return Promise.resolve({ recovered: false, reason: UNRECOVERED.gone });
    const after = entries.filter(
      (e) => compareEntryIds(e.id, since) > 0 && compareEntryIds(e.id, upTo) <= 0,
    );
    return Promise.resolve(
      after.length > max
        ? { recovered: false, reason: UNRECOVERED.tooMany(max) }
        : { recovered: true, entries: after },
    );
  }

  /** Forgets a site's history, as an expiry or a Redis flush would. */
  forget(site: string): void {
    this.sites.delete(site);
  }

  private live(site: string): Kept | undefined {
    const kept = this.sites.get(site);
    if (kept && this.now() >= kept.until) {
      this.sites.delete(site);
      return undefined;
    }
    return kept;
  }
}
