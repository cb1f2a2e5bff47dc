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
  /** Bytes of the head, blank line included: whatever follows is the next request's. */
  readonly length: number;
}

/** Not yet a whole head: more bytes may complete it. */
export const PARTIAL = 'partial';
/** Not a head this reader takes: hand the bytes to a full HTTP parser. */
export const UNSUPPORTED = 'unsupported';

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const COLON = 0x3a;
const REQUEST_LINE = /^([A-Z]+) (\/[\x21-\x7e]*) HTTP\/1\.([01])$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Field content: visible characters, obs-text, spaces and tabs; no controls.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * `searchFrom`: where the blank line could start, when earlier bytes were
 * already searched. Each value is decoded on its own from the bytes, so a
 * string kept for a stream's life (its path, its user agent) holds no part of
 * the rest of the head.
 */
export function parseRequestHead(
  bytes: Buffer,
  maxBytes: number,
  searchFrom = 0,
): RequestHead | typeof PARTIAL | typeof UNSUPPORTED {
  const end = bytes.indexOf(HEAD_END, searchFrom);
  if (end === -1) {
    // Lines ended by a bare LF never make a CRLF blank line: the full parser answers them at once.
    if (hasBareLf(bytes, searchFrom)) return UNSUPPORTED;
    return bytes.length < maxBytes ? PARTIAL : UNSUPPORTED;
  }
  if (end + HEAD_END.length > maxBytes) return UNSUPPORTED;
  let lineEnd = bytes.indexOf(CRLF);
  const request = REQUEST_LINE.exec(bytes.toString('latin1', 0, lineEnd));
  if (!request) return UNSUPPORTED;
  const headers = new Map<string, string>();
  for (let start = lineEnd + CRLF.length; start < end; start = lineEnd + CRLF.length) {
    lineEnd = bytes.indexOf(CRLF, start);
    const colon = bytes.indexOf(COLON, start);
    if (colon <= start || colon > lineEnd) return UNSUPPORTED;
    let from = colon + 1;
    let to = lineEnd;
    while (from < to && isOws(bytes[from])) from++;
    while (to > from && isOws(bytes[to - 1])) to--;
    const name = bytes.toString('latin1', start, colon);
    const value = bytes.toString('latin1', from, to);
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) return UNSUPPORTED;
    const key = name.toLowerCase();
    if (headers.has(key)) return UNSUPPORTED;
    headers.set(key, value);
  }
  const [, method = '', target = '', minor] = request;
  return {
    method,
    target,
    version: minor === '0' ? '1.0' : '1.1',
    headers,
    length: end + HEAD_END.length,
  };
}

const LF = 0x0a;
const CR = 0x0d;

function hasBareLf(bytes: Buffer, from: number): boolean {
  for (let i = bytes.indexOf(LF, from); i !== -1; i = bytes.indexOf(LF, i + 1)) {
    if (i === 0 || bytes[i - 1] !== CR) return true;
  }
  return false;
}

const isOws = (byte: number | undefined) => byte === 0x20 || byte === 0x09;

/** Whether the bytes received so far could still begin `prefix`. */
export function couldBegin(bytes: Buffer, prefix: Buffer): boolean {
  const n = Math.min(bytes.length, prefix.length);
  return bytes.compare(prefix, 0, n, 0, n) === 0;
}

/**
 * The bytes of a head as they arrive, kept in one buffer that grows by copying
 * each chunk once, so a head sent a byte at a time costs no more than one sent
 * whole. Past `maxBytes` it stops growing: such a head is not one to take.
 */
export class HeadBytes {
  private buffer: Buffer | undefined;
  private length = 0;

  constructor(private readonly maxBytes: number) {}

  /** Where the blank line could begin now that `chunk` has been added. */
  searchFrom = 0;

  /** Adds a chunk and returns everything received so far. */
  add(chunk: Buffer): Buffer {
    this.searchFrom = Math.max(0, this.length - (HEAD_END.length - 1));
    if (this.buffer === undefined) {
      this.buffer = chunk;
      this.length = chunk.length;
    } else if (this.length + chunk.length > this.maxBytes) {
      this.buffer = Buffer.concat([this.bytes(), chunk]);
      this.length = this.buffer.length;
    } else {
      if (this.buffer.length < this.maxBytes) {
        const grown = Buffer.allocUnsafe(this.maxBytes);
        this.buffer.copy(grown, 0, 0, this.length);
        this.buffer = grown;
      }
      chunk.copy(this.buffer, this.length);
      this.length += chunk.length;
    }
    return this.bytes();
  }

  bytes(): Buffer {
    return this.buffer === undefined ? Buffer.alloc(0) : this.buffer.subarray(0, this.length);
  }
}
