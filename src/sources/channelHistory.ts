// Channel history, Centrifugo's model: a channel published with history has an
// epoch (a random name for its history, new whenever that history is lost) and
// a monotonic offset. Publishing is one atomic step — the offset incremented
// in the channel's meta hash, the payload added to its history stream under
// that offset, both given their expiries, and the payload PUBLISHed tagged
// with epoch and offset — so every instance sees the same positions. Recovery
// reads the epoch, the top and the range after a position in one step too, and
// is a recovery only when the epoch matches and the range is whole.
import { randomBytes } from 'node:crypto';
import type { Position } from '../core/position.js';

export type { Position } from '../core/position.js';
export { tagged, untagged } from '../core/position.js';

/** One message of a channel's history. */
export interface HistoryEntry {
  readonly offset: number;
  readonly payload: string;
}

export type Recovery =
  /** Every message after the position, in order, up to the top when it was read. */
  | { readonly recovered: true; readonly top: Position; readonly publications: HistoryEntry[] }
  /** The position cannot be resumed from (another epoch, or the range is gone or too long). */
  | { readonly recovered: false; readonly top: Position };

export interface ChannelHistory {
  /** Publishes a payload with history: its position, once it is stored and sent. */
  publish(channel: string, payload: string): Promise<Position>;
  /** The channel's epoch and top offset now (a new epoch for a channel with none). */
  top(channel: string): Promise<Position>;
  /** What was published after `since`, at most `max` messages, or why not. */
  recover(channel: string, since: Position, max: number): Promise<Recovery>;
}

export interface HistoryOptions {
  /** Messages kept per channel. */
  readonly size: number;
  /** How long a channel's history is kept after its last publish (s). */
  readonly ttlS: number;
  /**
   * Channels published with SPUBLISH rather than PUBLISH (REDIS_SHARDED_CHANNELS).
   * On a Cluster SPUBLISH goes to the channel's slot, which is its history keys' too.
   */
  readonly sharded?: (channel: string) => boolean;
}

/**
 * How long a channel's meta hash (epoch and offset) outlives its history: a
 * client coming back after the history expired is told "unrecovered", not
 * handed a new epoch's offsets as if they continued its own.
 */
export const META_TTL_S = 86_400;

/** A new epoch: random, short, safe in any wire format. */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

/**
 * The keys of a channel's history, hash-tagged on the channel so that a Redis
 * Cluster keeps both in one slot (and one script can use them).
 */
export function historyKeys(channel: string): { readonly meta: string; readonly stream: string } {
  const tag = `{${channel}}`;
  return { meta: `rxs:history:${tag}:meta`, stream: `rxs:history:${tag}:stream` };
}

/** Whether a range read after `since` is whole: offsets since + 1, since + 2, … up to `top`. */
export function isWhole(since: number, top: number, offsets: readonly number[]): boolean {
  if (offsets.length !== top - since) return false;
  for (let i = 0; i < offsets.length; i++) if (offsets[i] !== since + 1 + i) return false;
  return true;
}
