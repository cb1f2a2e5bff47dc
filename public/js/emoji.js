// Emoji ids as the streams carry them (unified codepoints joined by '-') and
// the characters a browser draws for them.

const ID = /^[0-9A-F]{1,6}(?:-[0-9A-F]{1,6}){0,9}$/;
const VS16 = 0xfe0f;
const KEYCAP = 0x20e3;

/** `1F602` → 😂, `0031-20E3` → 1️⃣, `1F1FA-1F1F8` → 🇺🇸; anything else is shown as given. */
export function emojiFromId(id) {
  if (!ID.test(id)) return id;
  const cps = id.split('-').map((h) => parseInt(h, 16));
  if (cps.some((cp) => cp > 0x10ffff)) return id;
  // Unified ids leave out U+FE0F; without it a heart, a sun or a keycap is drawn
  // as a plain text glyph. It must not go between a base and a skin tone, so
  // only single codepoints and keycaps get one.
  if (cps.length === 1) cps.push(VS16);
  else if (cps.length === 2 && cps[1] === KEYCAP) cps.splice(1, 0, VS16);
  return String.fromCodePoint(...cps);
}

/** `1F1FA-1F1F8` → `U+1F1FA U+1F1F8`: how the id reads in the detail heading. */
export function codepointLabel(id) {
  return id
    .split('-')
    .map((h) => `U+${h}`)
    .join(' ');
}

export function isEmojiId(id) {
  return ID.test(id);
}
