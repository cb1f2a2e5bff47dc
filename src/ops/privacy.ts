// What the admin status document shows of its clients: everything to an operator
// (the ADMIN_TOKEN bearer), and to anyone else, this machine included (a proxy
// in front of the server makes every request local), network-level addresses
// only (`203.0.113.*`, `2001:db8:1::*`), User-Agents cut to 256 characters, and
// of what protocols add (channels, sites, users) only the counts.
import type { IncomingHttpHeaders } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';
import { sameSecret } from '../core/sameSecret.js';
import type { ConnectionStatus } from './statusReport.js';

/** How much of each client a status document shows. */
export type StatusDetail = 'full' | 'masked';

/** A masked document's User-Agents are cut to this many characters. */
export const MASKED_USER_AGENT = 256;

/**
 * An address with its host part hidden: IPv4 keeps its first three octets
 * (`203.0.113.7` → `203.0.113.*`), IPv6 its first 48 bits (`2001:db8:1:2::5` →
 * `2001:db8:1::*`), an IPv4-mapped IPv6 address is masked as the IPv4 address it
 * is. The empty string stays empty; anything that is no address becomes `*`.
 */
export function maskIp(ip: string): string {
  const bare = ip.trim().replace(/%.*$/, '');
  if (bare === '') return '';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  const v4 = mapped ?? bare;
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.*`;
  if (!isIPv6(bare)) return '*';
  const groups = ipv6Groups(bare);
  return `${groups
    .slice(0, 3)
    .map((g) => g.toString(16))
    .join(':')}::*`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted tail as two groups). */
function ipv6Groups(ip: string): number[] {
  let text = ip.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** A User-Agent as a masked document shows it. */
export const maskUserAgent = (ua: string): string => ua.slice(0, MASKED_USER_AGENT);

/** The fields every listed connection has; what a protocol adds comes after them. */
const STANDARD = new Set([
  'request_path',
  'namespace',
  'created_at',
  'client_ip',
  'user_agent',
  'msgs_sent',
]);

/**
 * A listed connection as a masked document shows it: its address and
 * User-Agent masked, and of what its protocol adds only counts and flags —
 * never a channel name, a site or a user id.
 */
export function maskConnection(c: ConnectionStatus): ConnectionStatus {
  const masked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(c)) {
    if (STANDARD.has(key) || typeof value === 'number' || typeof value === 'boolean')
      masked[key] = value;
  }
  return {
    ...(masked as unknown as ConnectionStatus),
    client_ip: maskIp(c.client_ip),
    user_agent: maskUserAgent(c.user_agent),
  };
}

/**
 * The detail a status request gets: `full` for `Authorization: Bearer <token>`
 * when a token is configured, `unauthorized` for any other Authorization, and
 * `masked` without one, or when no token is configured at all.
 */
export function statusDetail(
  request: { readonly headers: IncomingHttpHeaders },
  token: string | undefined,
): StatusDetail | 'unauthorized' {
  const { authorization } = request.headers;
  if (token === undefined) return 'masked';
  if (authorization === undefined || authorization.trim() === '') return 'masked';
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  return presented !== undefined && sameSecret(presented, token) ? 'full' : 'unauthorized';
}
