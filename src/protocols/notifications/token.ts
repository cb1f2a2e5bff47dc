// Per-user stream tokens: `<expiry>.<signature>`, an HMAC-SHA256 of the user id and
// a Unix-seconds expiry made with TOKEN_SECRET, so a token opens one user's stream until then.
import { createHmac, timingSafeEqual } from 'node:crypto';

const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;
// No leading zeros, so each expiry has one spelling and a token cannot be rewritten;
// 43 base64url characters are exactly one unpadded SHA-256 digest.
const TOKEN = /^([1-9]\d*)\.([A-Za-z0-9_-]{43})$/;
const MAX_TOKEN_LENGTH = 128;

export type TokenCheck =
  | { ok: true; /** ms since epoch, like `now` */ expiresAt: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'expired' | 'forged' };

function sign(user: string, expiry: number, secret: string): string {
  // A user id has no '.', so `${user}.${expiry}` names exactly one (user, expiry) pair.
  return createHmac('sha256', secret).update(`${user}.${expiry}`).digest('base64url');
}

function assertSecret(secret: string): void {
  // Anyone can compute an HMAC under an empty key, so such tokens would prove nothing.
  if (secret === '') throw new Error('the token secret must not be empty');
}

/** Makes a token that opens `user`'s stream for `ttlSeconds` from `now` (ms since epoch). */
export function mintToken(options: {
  user: string;
  ttlSeconds: number;
  secret: string;
  now?: number;
}): string {
  const { user, ttlSeconds, secret, now = Date.now() } = options;
  if (!USER_ID.test(user)) {
    throw new Error(
      `user id ${JSON.stringify(user)} is not valid: expected 1-64 characters of A-Z a-z 0-9 _ -`,
    );
  }
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new Error(`ttlSeconds must be a positive whole number of seconds, got ${ttlSeconds}`);
  }
  assertSecret(secret);
  const expiry = Math.floor(now / 1000) + ttlSeconds;
  return `${expiry}.${sign(user, expiry, secret)}`;
}

/** Checks `token` for `user`; a bad signature is 'forged' whatever its expiry. */
export function verifyToken(
  token: string | undefined,
  user: string,
  secret: string,
  now = Date.now(),
): TokenCheck {
  assertSecret(secret);
  if (token === undefined || token === '') return { ok: false, reason: 'missing' };
  const match = token.length <= MAX_TOKEN_LENGTH ? TOKEN.exec(token) : null;
  const expiry = Number(match?.[1]);
  const signature = match?.[2];
  if (signature === undefined || !Number.isSafeInteger(expiry)) {
    return { ok: false, reason: 'malformed' };
  }
  // The base64url text is compared rather than decoded bytes: decoding ignores the last
  // character's spare bits, which would let four spellings of one signature pass.
  const expected = Buffer.from(sign(user, expiry, secret));
  if (!timingSafeEqual(expected, Buffer.from(signature))) return { ok: false, reason: 'forged' };
  // Checked after the signature, so 'expired' in a log always means a genuine old token.
  if (expiry * 1000 <= now) return { ok: false, reason: 'expired' };
  return { ok: true, expiresAt: expiry * 1000 };
}
