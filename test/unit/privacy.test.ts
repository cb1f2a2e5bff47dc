// maskIp and statusDetail: what an admin status document shows of a client to
// someone without the ADMIN_TOKEN, and who gets to see it whole.
import { describe, expect, it } from 'vitest';
import { MASKED_USER_AGENT, maskIp, maskUserAgent, statusDetail } from '../../src/ops/privacy.js';

describe('maskIp', () => {
  it('keeps the first three octets of an IPv4 address', () => {
    expect(maskIp('203.0.113.7')).toBe('203.0.113.*');
    expect(maskIp('127.0.0.1')).toBe('127.0.0.*');
    expect(maskIp(' 10.1.2.255 ')).toBe('10.1.2.*');
  });

  it('keeps the first 48 bits of an IPv6 address', () => {
    expect(maskIp('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1::*');
    expect(maskIp('2001:0DB8:0001:ffff::5')).toBe('2001:db8:1::*');
    expect(maskIp('2001:db8::1')).toBe('2001:db8:0::*');
    expect(maskIp('::1')).toBe('0:0:0::*');
    expect(maskIp('fe80::1%eth0')).toBe('fe80:0:0::*');
    expect(maskIp('64:ff9b:1::192.0.2.33')).toBe('64:ff9b:1::*');
  });

  it('masks an IPv4-mapped IPv6 address as the IPv4 address it is', () => {
    expect(maskIp('::ffff:203.0.113.7')).toBe('203.0.113.*');
    expect(maskIp('::FFFF:127.0.0.1')).toBe('127.0.0.*');
  });

  it('leaves an empty address empty and hides what is no address', () => {
    expect(maskIp('')).toBe('');
    expect(maskIp('unknown')).toBe('*');
    expect(maskIp('203.0.113')).toBe('*');
    expect(maskIp('999.1.1.1')).toBe('*');
  });
});

describe('maskUserAgent', () => {
  it('cuts a User-Agent to 256 characters', () => {
    expect(MASKED_USER_AGENT).toBe(256);
    expect(maskUserAgent('a'.repeat(1000))).toBe('a'.repeat(256));
    expect(maskUserAgent('curl/8.0')).toBe('curl/8.0');
  });
});

describe('statusDetail', () => {
  const TOKEN = 'an-admin-token-of-some-length';
  const request = (headers: Record<string, string> = {}) => ({ headers });

  it('with a token: full for the bearer, 401 for another, masked without one', () => {
    expect(statusDetail(request({ authorization: `Bearer ${TOKEN}` }), TOKEN)).toBe('full');
    expect(statusDetail(request({ authorization: `bearer  ${TOKEN} ` }), TOKEN)).toBe('full');
    expect(statusDetail(request({ authorization: `Bearer ${TOKEN}x` }), TOKEN)).toBe(
      'unauthorized',
    );
    expect(statusDetail(request({ authorization: 'Bearer short' }), TOKEN)).toBe('unauthorized');
    expect(statusDetail(request({ authorization: `Basic ${TOKEN}` }), TOKEN)).toBe('unauthorized');
    expect(statusDetail(request(), TOKEN)).toBe('masked');
  });

  it('without a token configured: masked for everyone, this machine included', () => {
    expect(statusDetail(request(), undefined)).toBe('masked');
    expect(statusDetail(request({ authorization: `Bearer ${TOKEN}` }), undefined)).toBe('masked');
  });
});
