// The detail filter: only messages whose channel names exactly this id
// (`stream.tweet_updates.2665` matches `2665`, never `26`).
import { filter } from 'rxjs';
import type { MonoTypeOperatorFunction } from 'rxjs';
import type { BusMessage } from '../core/message.js';

/** The third dot-separated part of a channel name: `stream.tweet_updates.1F602` → `1F602`. */
export function detailIdOf(channel: string): string {
  const first = channel.indexOf('.');
  const second = first === -1 ? -1 : channel.indexOf('.', first + 1);
  if (second === -1) return '';
  const third = channel.indexOf('.', second + 1);
  return third === -1 ? channel.slice(second + 1) : channel.slice(second + 1, third);
}

export function filterDetail(id: string): MonoTypeOperatorFunction<BusMessage> {
  return filter((message) => detailIdOf(message.channel) === id);
}
