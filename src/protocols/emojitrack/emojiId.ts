// The emoji ids of the emojitracker API: what a detail stream and its cleanup
// are named by; anything else is a 400 that says what an id looks like.
import { StreamerError } from '../../core/errors.js';

/** Upper-case hex codepoints, optionally joined by '-': `1F602`, `0031-20E3`, `1F1FA-1F1F8`. */
const ID = /^[0-9A-F]{1,6}(?:-[0-9A-F]{1,6}){0,9}$/;
const MAX_ID_LENGTH = 64;

export function validateEmojiId(id: string): string {
  if (id.length <= MAX_ID_LENGTH && ID.test(id)) return id;
  const shown = id.length > MAX_ID_LENGTH ? `${id.slice(0, MAX_ID_LENGTH)}…` : id;
  throw new StreamerError(
    'RXS_ERR_BAD_ID',
    `"${shown}" is not an emoji id: expected upper-case hex codepoints joined by "-" (like 1F602 or 0031-20E3), at most ${MAX_ID_LENGTH} characters`,
    400,
  );
}
