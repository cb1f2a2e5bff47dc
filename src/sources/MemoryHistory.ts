// Channel history in the process, for the embedded bus: the semantics of
// RedisHistory (epochs, offsets, a bounded history that expires, tagged
// publishes) on a Map, publishing on the MemoryBus.
import { META_TTL_S, isWhole, newEpoch, tagged } from './channelHistory.js';
import type {
  ChannelHistory,
  HistoryOptions,
  Position,
  HistoryEntry,
  Recovery,
} from './channelHistory.js';
import type { MemoryBus } from './MemoryBus.js';

/** Publishes between two sweeps of expired channels. */
const SWEEP_EVERY = 1_000;

interface Kept {
  readonly epoch: string;
  offset: number;
  readonly publications: HistoryEntry[];
  /** When its history expires, and when its epoch and offset do (ms since the epoch). */
  historyUntil: number;
  metaUntil: number;
}

export class MemoryHistory implements ChannelHistory {
  private readonly channels = new Map<string, Kept>();
  private publishes = 0;

  constructor(
    private readonly bus: MemoryBus,
    private readonly options: HistoryOptions,
    private readonly now: () => number = Date.now,
  ) {}

  publish(channel: string, payload: string): Promise<Position> {
    const now = this.now();
    // Now and then, the channels whose epoch has expired go: memory follows the live channels.
    if (++this.publishes % SWEEP_EVERY === 0)
      for (const [name, k] of this.channels) if (now >= k.metaUntil) this.channels.delete(name);
    const kept = this.kept(channel);
    if (now >= kept.historyUntil) kept.publications.length = 0;
    kept.offset++;
    kept.publications.push({ offset: kept.offset, payload });
    if (kept.publications.length > this.options.size)
      kept.publications.splice(0, kept.publications.length - this.options.size);
    kept.historyUntil = now + this.options.ttlS * 1000;
    kept.metaUntil = now + Math.max(META_TTL_S, this.options.ttlS) * 1000;
    const position = { epoch: kept.epoch, offset: kept.offset };
    this.bus.publish(channel, tagged(position, payload));
    return Promise.resolve(position);
  }

  top(channel: string): Promise<Position> {
    const kept = this.kept(channel);
    return Promise.resolve({ epoch: kept.epoch, offset: kept.offset });
  }

  recover(channel: string, since: Position, max: number): Promise<Recovery> {
    const kept = this.kept(channel);
    const top = { epoch: kept.epoch, offset: kept.offset };
    if (since.epoch !== kept.epoch || top.offset - since.offset > max || top.offset < since.offset)
      return Promise.resolve({ recovered: false, top });
    const publications =
      this.now() >= kept.historyUntil
        ? []
        : kept.publications.filter((p) => p.offset > since.offset);
    return Promise.resolve(
      isWhole(
        since.offset,
        top.offset,
        publications.map((p) => p.offset),
      )
        ? { recovered: true, top, publications }
        : { recovered: false, top },
    );
  }

  /** Forgets a channel's history and epoch, as a Redis flush would. */
  forget(channel: string): void {
    this.channels.delete(channel);
  }

  private kept(channel: string): Kept {
    let kept = this.channels.get(channel);
    if (!kept || this.now() >= kept.metaUntil) {
      const now = this.now();
      kept = {
        epoch: newEpoch(),
        offset: 0,
        publications: [],
        historyUntil: now,
        metaUntil: now + Math.max(META_TTL_S, this.options.ttlS) * 1000,
      };
      this.channels.set(channel, kept);
    }
    return kept;
  }
}
