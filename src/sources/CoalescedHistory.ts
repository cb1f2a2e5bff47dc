// Channel history whose reads are shared: when many clients recover the same
// channel at once (a rolling restart, a proxy that dropped everyone), the
// reads asked for while one is on its way wait for it and are then answered
// together by one read from the oldest position among them, each taking its
// own part. A thousand clients back at once cost a few reads, not a thousand
// (each a script and a reply of every message they missed). A read always
// starts after the calls it answers, so it sees everything published before them.
import type { ChannelHistory, HistoryEntry, Position, Recovery } from './channelHistory.js';

interface Ask {
  /** Undefined: only the channel's top is wanted. */
  readonly since: Position | undefined;
  readonly max: number;
  readonly resolve: (recovery: Recovery) => void;
  readonly reject: (err: unknown) => void;
}

interface Channel {
  /** Asked since the read on its way started: answered by the next one. */
  waiting: Ask[];
  reading: boolean;
}

export class CoalescedHistory implements ChannelHistory {
  private readonly channels = new Map<string, Channel>();

  constructor(private readonly inner: ChannelHistory) {}

  publish(channel: string, payload: string): Promise<Position> {
    return this.inner.publish(channel, payload);
  }

  async top(channel: string): Promise<Position> {
    return (await this.ask(channel, undefined, 0)).top;
  }

  recover(channel: string, since: Position, max: number): Promise<Recovery> {
    return this.ask(channel, since, max);
  }

  private ask(channel: string, since: Position | undefined, max: number): Promise<Recovery> {
    return new Promise<Recovery>((resolve, reject) => {
      let state = this.channels.get(channel);
      if (!state) this.channels.set(channel, (state = { waiting: [], reading: false }));
      state.waiting.push({ since, max, resolve, reject });
      if (!state.reading) this.next(channel, state);
    });
  }

  /** Answers what waits on a channel with one read (a few when positions differ), then the next. */
  private next(channel: string, state: Channel): void {
    const asks = state.waiting;
    if (asks.length === 0) {
      this.channels.delete(channel);
      return;
    }
    state.waiting = [];
    state.reading = true;
    this.answer(channel, asks)
      .catch((err: unknown) => {
        for (const a of asks) a.reject(err);
      })
      .finally(() => {
        state.reading = false;
        this.next(channel, state);
      });
  }

  private async answer(channel: string, asks: readonly Ask[]): Promise<void> {
    const byEpoch = new Map<string, Ask[]>();
    const tops: Ask[] = [];
    for (const a of asks) {
      if (!a.since) tops.push(a);
      else {
        const group = byEpoch.get(a.since.epoch);
        if (group) group.push(a);
        else byEpoch.set(a.since.epoch, [a]);
      }
    }
    let top: Position | undefined;
    for (const [epoch, group] of byEpoch) top = await this.answerEpoch(channel, epoch, group);
    if (tops.length > 0) {
      top ??= await this.inner.top(channel);
      for (const a of tops) a.resolve({ recovered: false, top });
    }
  }

  /**
   * One read from the oldest offset among `asks` (all in one epoch) answers
   * all of them: a read that is whole from there is whole from any later
   * offset. One that is not (the front of the history is gone) answers the
   * oldest as not recovered, and the others get a read from the next oldest.
   */
  private async answerEpoch(channel: string, epoch: string, asks: Ask[]): Promise<Position> {
    let pending = [...asks].sort(
      (x, y) => (x.since as Position).offset - (y.since as Position).offset,
    );
    for (;;) {
      const oldest = (pending[0] as Ask).since as Position;
      const newest = (pending[pending.length - 1] as Ask).since as Position;
      const max = Math.max(...pending.map((a) => a.max));
      // Whoever is within its own max of the top is within this of the oldest.
      const read = await this.inner.recover(channel, oldest, max + (newest.offset - oldest.offset));
      const { top } = read;
      if (read.recovered) {
        for (const a of pending) a.resolve(part(read.publications, a, top));
        return top;
      }
      const lost =
        top.epoch !== epoch || top.offset - oldest.offset > max + (newest.offset - oldest.offset);
      const rest = lost
        ? []
        : pending.filter((a) => {
            const since = (a.since as Position).offset;
            return since > oldest.offset && since <= top.offset;
          });
      for (const a of pending) if (!rest.includes(a)) a.resolve({ recovered: false, top });
      if (rest.length === 0) return top;
      pending = rest;
    }
  }
}

/** One ask's part of a whole read: what follows its own offset, if it is within its max. */
function part(publications: readonly HistoryEntry[], a: Ask, top: Position): Recovery {
  const since = (a.since as Position).offset;
  if (since > top.offset || top.offset - since > a.max) return { recovered: false, top };
  return { recovered: true, top, publications: publications.filter((p) => p.offset > since) };
}
