// The pub/sub wire format (SPEC §3, §5): the three actions a client sends (a
// subscribe may bring a position to recover from; its channel may come bare), the control replies (a
// subscribe's carries the channel's position), and channel messages
// `{"channel","message"}` (with `"offset"` when published with history), each
// encoded once for every subscriber. The control replies are shared with the
// other WebSocket protocols (controlFrames.ts).
import { readPosition } from '../../core/position.js';
import type { Position } from '../../core/position.js';
import type { ChannelStart } from '../channelStart.js';
import { controlMessage, quoted } from '../controlFrames.js';

export { controlError, controlMessage, toJson } from '../controlFrames.js';

export type ClientAction =
  | { readonly action: 'subscribe'; readonly channel: string; readonly recover?: Position }
  | { readonly action: 'unsubscribe'; readonly channel: string }
  | { readonly action: 'publish'; readonly channel: string; readonly message: unknown };

/**
 * A client frame read: one of the three actions; one of them malformed (a
 * control error); or something else — any text, JSON or not — for the receivers.
 */
export type Parsed =
  | { readonly kind: 'action'; readonly action: ClientAction }
  | { readonly kind: 'invalid'; readonly error: string }
  | { readonly kind: 'other'; readonly frame: unknown; readonly error: string };

const CHANNEL = /^[A-Za-z0-9_.:@/-]+$/;
export const MAX_CHANNEL_LENGTH = 200;

/** Why a channel name is refused, or undefined for a good one. */
export function channelProblem(channel: unknown): string | undefined {
  if (typeof channel !== 'string' || channel.length === 0)
    return 'payload.channel must be a non-empty string';
  if (channel.length > MAX_CHANNEL_LENGTH)
    return `a channel name has at most ${MAX_CHANNEL_LENGTH} characters`;
  if (!CHANNEL.test(channel)) return 'a channel name has only letters, digits and _ . : @ / -';
  return undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a client's text frame. */
export function parseFrame(text: string): Parsed {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return { kind: 'other', frame: text, error: 'a frame must be JSON' };
  }
  if (!isObject(frame)) return { kind: 'other', frame, error: 'a frame must be a JSON object' };
  const { action } = frame;
  // realtime-magic's own client sends a subscribe's or unsubscribe's channel bare.
  const payload =
    typeof frame.payload === 'string' && action !== 'publish'
      ? { channel: frame.payload }
      : frame.payload;
  if (action !== 'subscribe' && action !== 'unsubscribe' && action !== 'publish')
    return {
      kind: 'other',
      frame,
      error:
        action === undefined
          ? 'a frame needs an "action": subscribe, unsubscribe or publish'
          : `unknown action ${quoted(action)}: expected subscribe, unsubscribe or publish`,
    };
  if (!isObject(payload)) return { kind: 'invalid', error: `${action} needs a payload object` };
  const problem = channelProblem(payload.channel);
  if (problem) return { kind: 'invalid', error: problem };
  const channel = payload.channel as string;
  if (action === 'subscribe' && payload.recover !== undefined) {
    const since = readPosition(payload.recover, 'payload.recover');
    if ('problem' in since) return { kind: 'invalid', error: since.problem };
    return { kind: 'action', action: { action, channel, recover: since.position } };
  }
  if (action !== 'publish') return { kind: 'action', action: { action, channel } };
  if (!('message' in payload)) return { kind: 'invalid', error: 'publish needs payload.message' };
  return { kind: 'action', action: { action, channel, message: payload.message } };
}

/**
 * A channel message as subscribers get it. The payload is the message's JSON
 * text as published (a client's publish, or an outside PUBLISH); text that is
 * not JSON is sent as a JSON string.
 */
export function channelMessage(channel: string, payload: string, offset?: number): Buffer {
  let json = payload;
  try {
    JSON.parse(payload);
  } catch {
    json = JSON.stringify(payload);
  }
  const position = offset === undefined ? '' : `,"offset":${offset}`;
  return Buffer.from(`{"channel":${JSON.stringify(channel)},"message":${json}${position}}`);
}

/**
 * A subscribe's acknowledgement: `Subscribed to C`, with the channel's epoch
 * and top offset when it has history (where the client resumes from), and
 * whether the position it brought was recovered when it brought one.
 */
export function subscribed(channel: string, start: ChannelStart | undefined): string {
  const content = `Subscribed to ${channel}`;
  if (!start) return controlMessage(content);
  const { epoch, offset } = start.top;
  return controlMessage(content, {
    channel,
    epoch,
    offset,
    ...(start.recovered === undefined ? {} : { recovered: start.recovered }),
  });
}

/**
 * Told to a channel's subscribers, in order with its messages, when messages
 * were lost before this instance got them: a client subscribes again with
 * `recover` from its last offset to get them (pubsub.js does).
 */
export function gapFrame(channel: string): Buffer {
  return Buffer.from(
    controlMessage(
      `messages on ${channel} were lost on their way here; subscribe with recover to get them`,
      {
        channel,
        gap: true,
      },
    ),
  );
}
