// A strict reader of HTTP/1.x request heads, for the streams that are served on
// the bare socket. It accepts only the plain form browsers send (CRLF line ends,
// token header names, no folding, no repeated header) and calls anything else
// unsupported, so such a request goes to Node's own parser instead.

export interface RequestHead {
  readonly method: string;
  /** The request target as sent: a path, optionally with a query. */
  readonly target: string;
  readonly version: '1.0' | '1.1';
  /** Header values by lower-case name. */
  readonly headers: ReadonlyMap<string, string>;
}

/** Not yet a whole head: more bytes may complete it. */
export const PARTIAL = 'partial';
/** Not a head this reader takes: hand the bytes to a full HTTP parser. */
export const UNSUPPORTED = 'unsupported';

const HEAD_END = Buffer.from('\r\n\r\n');
const REQUEST_LINE = /^([A-Z]+) (\/[\x21-\x7e]*) HTTP\/1\.([01])$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Field content: visible characters, obs-text, spaces and tabs; no controls.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export function parseRequestHead(
  bytes: Buffer,
  maxBytes: number,
): RequestHead | typeof PARTIAL | typeof UNSUPPORTED {
  const end = bytes.indexOf(HEAD_END);
  if (end === -1) return bytes.length < maxBytes ? PARTIAL : UNSUPPORTED;
  if (end + HEAD_END.length > maxBytes) return UNSUPPORTED;
  const lines = bytes.toString('latin1', 0, end).split('\r\n');
  const request = REQUEST_LINE.exec(lines[0] ?? '');
  if (!request) return UNSUPPORTED;
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const colon = line.indexOf(':');
    if (colon <= 0) return UNSUPPORTED;
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^[\t ]+|[\t ]+$/g, '');
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) return UNSUPPORTED;
    const key = name.toLowerCase();
    if (headers.has(key)) return UNSUPPORTED;
    headers.set(key, value);
  }
  const [, method = '', target = '', minor] = request;
  return { method, target, version: minor === '0' ? '1.0' : '1.1', headers };
}

/** Whether the bytes received so far could still begin `prefix`. */
export function couldBegin(bytes: Buffer, prefix: Buffer): boolean {
  const n = Math.min(bytes.length, prefix.length);
  return bytes.compare(prefix, 0, n, 0, n) === 0;
}
