// The notification streams' events, Sisyphus's wire format: a channel message
// as published (one data line per payload line), `data:noop`, and the status
// events `<message><status>ok</status></message>`; and, for a stream that came
// back with a position it cannot resume every channel from, `event:unrecovered`
// (an event type Sisyphus clients do not listen to). A `failure` says why in a
// comment line, which EventSource drops before any handler sees the event. None
// carries an id: the connection gives each event its position as it writes it
// (streamPosition.ts).
import type { BusMessage } from '../../core/message.js';
import { sseMessage } from '../../transports/sse/sseEncode.js';

export type StreamStatus = 'ok' | 'failure' | 'error' | 'disconnected';

/** Why a stream got `failure`: what its log line and its comment line say. */
export type FailureReason =
  'bad-id' | 'unknown-user' | 'missing-token' | 'bad-token' | 'expired-token';

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

const FAILURE_EVENTS = new Map<FailureReason, Buffer>();

/**
 * `failure` with its reason: `: failure reason=<reason>` and then the status
 * event's own `data:` line, unchanged. A comment line is part of SSE since its
 * first drafts, and every EventSource ignores it, so a Sisyphus client reads
 * the status as it always did, and a person reading the stream (curl) sees why.
 */
export function failureEvent(reason: FailureReason): Buffer {
  let event = FAILURE_EVENTS.get(reason);
  if (!event) {
    event = Buffer.concat([
      Buffer.from(`: failure reason=${reason}\n`, 'latin1'),
      STATUS_EVENTS.failure,
    ]);
    FAILURE_EVENTS.set(reason, event);
  }
  return event;
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
