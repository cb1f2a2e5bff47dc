// mintToken/verifyToken: a round trip, a known answer computed independently, and
// every way a token is refused: missing, malformed, forged (another user's too), expired.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mintToken, verifyToken } from '../../src/protocols/notifications/token.js';

const secret = 'test-secret-0123456789abcdef';
const now = 1_800_000_000_123; // ms; floor(now / 1000) = 1_800_000_000
const token = mintToken({ user: 'alice_1', ttlSeconds: 3600, secret, now });
const [expiry = '', signature = ''] = token.split('.');

/** The token with its signature's character at `index` replaced by `char`. */
const withSignatureChar = (index: number, char: string) =>
  `${expiry}.${signature.slice(0, index)}${char}${signature.slice(index + 1)}`;

describe('mintToken', () => {
  it('matches an HMAC-SHA256 computed independently (known answer)', () => {
    const expected = createHmac('sha256', secret).update('alice_1.1800003600').digest('base64url');
    expect(token).toBe(`1800003600.${expected}`);
    expect(token).toBe('1800003600.ydkWdUYk1MgGV4hdTbDstFFn0aDb7eUoMBfLIS0WscA');
  });

  it('defaults now to the current time', () => {
    const before = Math.floor(Date.now() / 1000);
    const exp = Number(mintToken({ user: 'u', ttlSeconds: 60, secret }).split('.')[0]);
    expect(exp).toBeGreaterThanOrEqual(before + 60);
    expect(exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 60);
  });

  it.each(['', 'a'.repeat(65), 'a.b', 'ä', 'a b', 'a/b'])('refuses the user id %j', (user) => {
    expect(() => mintToken({ user, ttlSeconds: 60, secret })).toThrow(/user id/);
  });

  it('accepts a 64-character user id of every allowed character class', () => {
    const user = `Az09_-${'x'.repeat(58)}`;
    expect(
      verifyToken(mintToken({ user, ttlSeconds: 60, secret, now }), user, secret, now).ok,
    ).toBe(true);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses ttlSeconds %s', (ttl) => {
    expect(() => mintToken({ user: 'u', ttlSeconds: ttl, secret })).toThrow(/ttlSeconds/);
  });

  it('refuses an empty secret', () => {
    expect(() => mintToken({ user: 'u', ttlSeconds: 60, secret: '' })).toThrow(/secret/);
  });
});

describe('verifyToken', () => {
  it('accepts a token it minted, with its expiry in ms', () => {
    expect(verifyToken(token, 'alice_1', secret, now)).toEqual({
      ok: true,
      expiresAt: 1_800_003_600_000,
    });
  });

  it('accepts a token until the second it expires', () => {
    expect(verifyToken(token, 'alice_1', secret, 1_800_003_599_999).ok).toBe(true);
    expect(verifyToken(token, 'alice_1', secret, 1_800_003_600_000)).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('reports a genuine token past its expiry as expired', () => {
    expect(verifyToken(token, 'alice_1', secret, now + 7_200_000)).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it.each([undefined, ''])('reports %j as missing', (missing) => {
    expect(verifyToken(missing, 'alice_1', secret, now)).toEqual({ ok: false, reason: 'missing' });
  });

  it.each([
    ['no dot', token.replace('.', '')],
    ['letters in the expiry', `18000x3600.${signature}`],
    ['an empty expiry', `.${signature}`],
    ['a leading zero', `0${token}`],
    ['a short signature', token.slice(0, -1)],
    ['a long signature', `${token}A`],
    ['a padded signature', `${token}=`],
    ['a non-base64url character', withSignatureChar(5, '+')],
    ['two dots', `${expiry}.${expiry}.${signature}`],
    ['an expiry past a safe integer', `${'9'.repeat(20)}.${signature}`],
    ['more than 128 characters', `${'1'.repeat(85)}.${signature}`],
  ])('reports %s as malformed', (_, bad) => {
    expect(verifyToken(bad, 'alice_1', secret, now)).toEqual({ ok: false, reason: 'malformed' });
  });

  it("reports another user's token as forged", () => {
    expect(verifyToken(token, 'alice_2', secret, now)).toEqual({ ok: false, reason: 'forged' });
  });

  it('reports a token made with another secret as forged', () => {
    expect(verifyToken(token, 'alice_1', `${secret}!`, now)).toEqual({
      ok: false,
      reason: 'forged',
    });
  });

  it('reports a tampered signature as forged', () => {
    const first = signature[0] === 'a' ? 'b' : 'a';
    expect(verifyToken(withSignatureChar(0, first), 'alice_1', secret, now)).toEqual({
      ok: false,
      reason: 'forged',
    });
  });

  it('reports another spelling of the same signature bytes as forged', () => {
    // The last of 43 characters carries 2 spare bits: A and B decode to the same digest.
    expect(signature.at(-1)).toBe('A');
    const respelled = withSignatureChar(42, 'B');
    expect(Buffer.from(respelled.split('.')[1] ?? '', 'base64url')).toEqual(
      Buffer.from(signature, 'base64url'),
    );
    expect(verifyToken(respelled, 'alice_1', secret, now)).toEqual({
      ok: false,
      reason: 'forged',
    });
  });

  it('reports a tampered expiry as forged, even one that has passed', () => {
    for (const e of [Number(expiry) + 1, Number(expiry) - 7200]) {
      expect(verifyToken(`${e}.${signature}`, 'alice_1', secret, now)).toEqual({
        ok: false,
        reason: 'forged',
      });
    }
  });

  it('refuses to check against an empty secret', () => {
    expect(() => verifyToken(token, 'alice_1', '', now)).toThrow(/secret/);
  });
});
