// The notification streams' events, Sisyphus's wire format: a channel message
// as published (one data line per payload line), `data:noop`, and the status
// events `<message><status>ok</status></message>`; and, for a stream that came
// back with a position it cannot resume every channel from, `event:unrecovered`
// (an event type Sisyphus clients do not listen to). None carries an id: the
// connection gives each event its position as it writes it (streamPosition.ts).
import type { BusMessage } from '../../core/message.js';
import { sseMessage } from '../../transports/sse/sseEncode.js';

export type StreamStatus = 'ok' | 'failure' | 'error' | 'disconnected';

/** A channel message, encoded once for every user who gets it. */
export const messageEvent = (message: BusMessage): Buffer => sseMessage({ data: message.payload });

export const NOOP_EVENT = sseMessage({ data: 'noop' });

const STATUS_EVENTS: Readonly<Record<StreamStatus, Buffer>> = {
  ok: statusEvent('ok'),
  failure: statusEvent('failure'),
  error: statusEvent('error'),
  disconnected: statusEvent('disconnected'),
};

function statusEvent(status: StreamStatus): Buffer {
  return sseMessage({ data: `<message><status>${status}</status></message>` });
}

/** Why a stream that came back does not get everything it missed, on which channels. */
export function unrecoveredEvent(reason: string, channels: readonly string[]): Buffer {
  return sseMessage({ event: 'unrecovered', data: JSON.stringify({ reason, channels }) });
}

/**
 * A status event. `retryMs` adds a `retry:` field, the delay before the client's
 * EventSource reconnects (spread out after an `error`, so a Redis outage does
 * not bring every client back in the same millisecond).
 */
export function streamStatus(status: StreamStatus, retryMs?: number): Buffer {
  const event = STATUS_EVENTS[status];
  if (retryMs === undefined) return event;
  return Buffer.concat([Buffer.from(`retry:${Math.round(retryMs)}\n`, 'latin1'), event]);
}
