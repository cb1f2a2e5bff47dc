// A message's place in its channel's history — the channel's epoch and the
// message's offset in it — and how a PUBLISHed payload carries it, so that
// sources hand every protocol messages with their positions (see
// sources/channelHistory.ts).

/** Where a channel's history stands: its epoch and an offset in it. */
export interface Position {
  readonly epoch: string;
  readonly offset: number;
}

/**
 * A PUBLISHed payload with its position: `\x1eh1:<epoch>:<offset>:` before the
 * payload. The record separator never starts JSON or plain text, so a message
 * without it costs one character comparison to tell apart.
 */
const TAG = '\x1eh1:';

export function tagged(position: Position, payload: string): string {
  return `${TAG}${position.epoch}:${position.offset}:${payload}`;
}

/** The position and payload of a PUBLISHed payload, or undefined for an untagged one. */
export function untagged(
  message: string,
): { readonly position: Position; readonly payload: string } | undefined {
  if (message.charCodeAt(0) !== 0x1e || !message.startsWith(TAG)) return undefined;
  const epochEnd = message.indexOf(':', TAG.length);
  const offsetEnd = epochEnd === -1 ? -1 : message.indexOf(':', epochEnd + 1);
  if (offsetEnd === -1) return undefined;
  const offset = Number(message.slice(epochEnd + 1, offsetEnd));
  if (!Number.isSafeInteger(offset) || offset < 1) return undefined;
  return {
    position: { epoch: message.slice(TAG.length, epochEnd), offset },
    payload: message.slice(offsetEnd + 1),
  };
}

/** Longest epoch a client may send back (ours are 8 characters). */
const MAX_EPOCH = 64;

/** A position a client sent back (`{"epoch","offset"}`), or why it is refused. */
export function readPosition(
  value: unknown,
  field: string,
): { readonly position: Position } | { readonly problem: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { problem: `${field} must be an object {"epoch","offset"}` };
  const { epoch, offset } = value as Record<string, unknown>;
  if (typeof epoch !== 'string' || epoch.length > MAX_EPOCH)
    return { problem: `${field}.epoch must be a string of at most ${MAX_EPOCH} characters` };
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
    return { problem: `${field}.offset must be a whole number, 0 or more` };
  return { position: { epoch, offset } };
}
