// The client address of a stream answered on the bare socket, under each form
// of TRUST_PROXY, as express's req.ip gives it for the same request.
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { clientAddress, trustFunction } from '../../src/transports/http/clientAddress.js';

const from = (remoteAddress: string) => ({ remoteAddress }) as unknown as Socket;
const chain = '198.51.100.7, 203.0.113.9, 10.0.0.2';

describe('clientAddress', () => {
  it('is the socket address when no proxy is trusted, whatever the header says', () => {
    expect(clientAddress(from('127.0.0.1'), chain, trustFunction(false))).toBe('127.0.0.1');
    expect(clientAddress(from('127.0.0.1'), undefined, trustFunction(false))).toBe('127.0.0.1');
  });

  it('is the first address of the chain when every proxy is trusted', () => {
    expect(clientAddress(from('127.0.0.1'), chain, trustFunction(true))).toBe('198.51.100.7');
  });

  it('walks back as many hops as a hop count trusts', () => {
    expect(clientAddress(from('127.0.0.1'), chain, trustFunction(1))).toBe('10.0.0.2');
    expect(clientAddress(from('127.0.0.1'), chain, trustFunction(2))).toBe('203.0.113.9');
  });

  it('trusts the named addresses and subnets only', () => {
    const trust = trustFunction('loopback, 10.0.0.0/8');
    expect(clientAddress(from('127.0.0.1'), chain, trust)).toBe('203.0.113.9');
    expect(clientAddress(from('192.0.2.1'), chain, trust)).toBe('192.0.2.1');
  });
});
