// Where a session starts on a channel with history: at the channel's top now,
// or, when it comes back with a position, after what it missed since, read in
// one step (see sources/channelHistory.ts). Read after Hub.hold, it is handed
// over with what arrived meanwhile (after()): no duplicate, no gap.
import type { BusMessage, PubSubSource } from '../core/message.js';
import type { Position } from '../core/position.js';
import type { ChannelHistory, HistoryEntry } from '../sources/channelHistory.js';

export interface ChannelStart {
  /** The channel's top when it was read: the session's position once `missed` is written. */
  readonly top: Position;
  /** Whether the position it came back with could be resumed from; undefined when it brought none. */
  readonly recovered: boolean | undefined;
  /** What it missed, in order: every message after its position, up to `top`. */
  readonly missed: readonly BusMessage[];
}

/**
 * Reads where a session starts on `channel`, then waits for the source to be
 * in sync: every message in the history read has then arrived live too (and
 * is held, so after() tells it apart), none is still on its way to come after.
 */
export async function channelStart(
  history: ChannelHistory,
  source: PubSubSource,
  channel: string,
  since: Position | undefined,
  max: number,
): Promise<ChannelStart> {
  if (!since) {
    const top = await history.top(channel);
    await source.synced?.(channel);
    return { top, recovered: undefined, missed: [] };
  }
  const recovery = await history.recover(channel, since, max);
  await source.synced?.(channel);
  if (!recovery.recovered) return { top: recovery.top, recovered: false, missed: [] };
  const { epoch } = recovery.top;
  const receivedAt = Date.now();
  return {
    top: recovery.top,
    recovered: true,
    missed: recovery.publications.map((p) => {
      let message = asMessages.get(p);
      if (!message) {
        message = {
          channel,
          payload: p.payload,
          receivedAt,
          position: { epoch, offset: p.offset },
        };
        asMessages.set(p, message);
      }
      return message;
    }),
  };
}

/**
 * One message per history entry: sessions recovering together from one read
 * (CoalescedHistory) get the same objects, which the hub encodes once for all.
 */
const asMessages = new WeakMap<HistoryEntry, BusMessage>();

/**
 * Which of the messages that arrived while a session was held it still needs
 * once it starts at `top`: those published after it (or in a newer epoch),
 * and those without a position (an outside PUBLISH, live only).
 */
export function after(top: Position): (message: BusMessage) => boolean {
  return ({ position }) =>
    position === undefined || position.epoch !== top.epoch || position.offset > top.offset;
}
