// The client's address behind the configured proxies, as express's `req.ip`
// works it out, for requests answered before express sees them.
import type { Socket } from 'node:net';
import proxyaddr from 'proxy-addr';

export type TrustProxy = boolean | number | string;
export type TrustFunction = (address: string, hop: number) => boolean;

/** Express's reading of a `trust proxy` setting. */
export function trustFunction(setting: TrustProxy): TrustFunction {
  if (setting === true) return () => true;
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  const list = typeof setting === 'string' ? setting.split(',').map((s) => s.trim()) : [];
  return proxyaddr.compile(list);
}

/** IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) shown as the IPv4 address they are. */
export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/** The client's address; `socket` is what carried the request (its remoteAddress is read). */
export function clientAddress(
  socket: Pick<Socket, 'remoteAddress'>,
  forwardedFor: string | undefined,
  trust: TrustFunction,
): string {
  const headers = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor };
  // proxy-addr reads only the socket's address and this header.
  const req = { socket, headers } as unknown as Parameters<typeof proxyaddr>[0];
  return proxyaddr(req, trust);
}
