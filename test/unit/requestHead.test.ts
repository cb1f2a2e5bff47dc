// The strict request-head reader: it takes the plain heads browsers send and
// calls everything else unsupported, so Node's own parser gets those.
import { describe, expect, it } from 'vitest';
import {
  HeadBytes,
  PARTIAL,
  UNSUPPORTED,
  couldBegin,
  parseRequestHead,
} from '../../src/transports/http/requestHead.js';

const head = (text: string, max = 16_384) => parseRequestHead(Buffer.from(text, 'latin1'), max);

describe('parseRequestHead', () => {
  it('reads the request line and the headers by lower-case name', () => {
    const text =
      'GET /subscribe/eps?x=1 HTTP/1.1\r\nHost: localhost:8001\r\nUser-Agent:  Mozilla/5.0 (X11)\t\r\nAccept: text/event-stream\r\n\r\n';
    // Bytes after the head (a pipelined request) are not part of it.
    const parsed = head(`${text}GET /next HTTP/1.1\r\n\r\n`);
    expect(parsed).toEqual({
      method: 'GET',
      target: '/subscribe/eps?x=1',
      version: '1.1',
      headers: new Map([
        ['host', 'localhost:8001'],
        ['user-agent', 'Mozilla/5.0 (X11)'],
        ['accept', 'text/event-stream'],
      ]),
      length: text.length,
    });
  });

  it('reads HTTP/1.0, a head with no headers, and empty values', () => {
    expect(head('GET / HTTP/1.0\r\n\r\n')).toEqual({
      method: 'GET',
      target: '/',
      version: '1.0',
      headers: new Map(),
      length: 18,
    });
    expect(head('GET /a HTTP/1.1\r\nX-Empty:\r\n\r\n')).toMatchObject({
      headers: new Map([['x-empty', '']]),
    });
  });

  it('keeps obs-text in values as latin1', () => {
    const parsed = head('GET / HTTP/1.1\r\nX-Name: caf\xe9\r\n\r\n');
    expect(parsed !== PARTIAL && parsed !== UNSUPPORTED && parsed.headers.get('x-name')).toBe(
      'caf\xe9',
    );
  });

  it('waits for more bytes until the blank line, up to the size limit', () => {
    expect(head('')).toBe(PARTIAL);
    expect(head('GET /subscribe/eps HTTP/1.1\r\nHost: x\r\n')).toBe(PARTIAL);
    expect(head('GET /subscribe/eps HTTP/1.1\r\nHost: x\r\n\r')).toBe(PARTIAL);
    expect(head(`GET / HTTP/1.1\r\nX: ${'a'.repeat(100)}`, 64)).toBe(UNSUPPORTED);
    expect(head(`GET / HTTP/1.1\r\nX: ${'a'.repeat(60)}\r\n\r\n`, 64)).toBe(UNSUPPORTED);
  });

  it.each([
    ['a bare LF line end', 'GET / HTTP/1.1\nHost: x\n\n\r\n\r\n'],
    ['a leading empty line', '\r\nGET / HTTP/1.1\r\n\r\n'],
    ['HTTP/2 or 0.9 syntax', 'GET / HTTP/2\r\n\r\n'],
    ['an absolute-form target', 'GET http://x/ HTTP/1.1\r\n\r\n'],
    ['an asterisk target', 'OPTIONS * HTTP/1.1\r\n\r\n'],
    ['a space in the target', 'GET /a b HTTP/1.1\r\n\r\n'],
    ['a lower-case method', 'get / HTTP/1.1\r\n\r\n'],
    ['two spaces', 'GET  / HTTP/1.1\r\n\r\n'],
    ['a folded header', 'GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n'],
    ['a space before the colon', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n'],
    ['a header without a colon', 'GET / HTTP/1.1\r\nHost\r\n\r\n'],
    ['an empty header name', 'GET / HTTP/1.1\r\n: x\r\n\r\n'],
    ['a control character in a value', 'GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n'],
    ['a repeated header', 'GET / HTTP/1.1\r\nContent-Length: 0\r\ncontent-length: 5\r\n\r\n'],
  ])('calls %s unsupported', (_what, text) => {
    expect(head(text)).toBe(UNSUPPORTED);
  });
});

describe('couldBegin', () => {
  const prefix = Buffer.from('GET /subscribe/');
  it('is true while the bytes so far agree with the prefix, and after it', () => {
    expect(couldBegin(Buffer.from(''), prefix)).toBe(true);
    expect(couldBegin(Buffer.from('GE'), prefix)).toBe(true);
    expect(couldBegin(Buffer.from('GET /subscribe/eps HTTP/1.1'), prefix)).toBe(true);
  });

  it('is false as soon as they differ', () => {
    expect(couldBegin(Buffer.from('P'), prefix)).toBe(false);
    expect(couldBegin(Buffer.from('GET /api/scores'), prefix)).toBe(false);
    expect(couldBegin(Buffer.from('HEAD /subscribe/eps'), prefix)).toBe(false);
  });
});

describe('HeadBytes', () => {
  const text = 'GET /subscribe/eps HTTP/1.1\r\nHost: x\r\n\r\n';

  it('gathers a head sent a byte at a time, and says where the blank line can start', () => {
    const head = new HeadBytes(1024);
    let bytes: Buffer = Buffer.alloc(0);
    for (let i = 0; i < text.length; i++) {
      bytes = head.add(Buffer.from(text[i] as string, 'latin1'));
      expect(head.searchFrom).toBe(Math.max(0, i - 3));
      if (i < text.length - 1) expect(parseRequestHead(bytes, 1024, head.searchFrom)).toBe(PARTIAL);
    }
    expect(bytes.toString('latin1')).toBe(text);
    expect(parseRequestHead(bytes, 1024, head.searchFrom)).toMatchObject({
      target: '/subscribe/eps',
    });
  });

  it('keeps a first chunk as it is, and goes past the limit only to hand the bytes on', () => {
    const head = new HeadBytes(16);
    const first = Buffer.from('GET / HTTP/1.1\r\n');
    const kept = head.add(first);
    // The same memory, not a copy.
    expect([kept.buffer, kept.byteOffset, kept.length]).toEqual([
      first.buffer,
      first.byteOffset,
      first.length,
    ]);
    const all = head.add(Buffer.from('X: 1\r\n\r\n'));
    expect(all.toString()).toBe('GET / HTTP/1.1\r\nX: 1\r\n\r\n');
    expect(parseRequestHead(all, 16, head.searchFrom)).toBe(UNSUPPORTED);
  });
});
