// The SSE wire encoding, byte for byte: what EventSource clients of the original
// streamers parse, with no space after the colon and LF line endings.
import { describe, expect, it } from 'vitest';
import {
  rollupJson,
  sseComment,
  sseMessage,
  sseRetry,
} from '../../src/transports/sse/sseEncode.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('sseMessage', () => {
  it('encodes data alone as one data line and a blank line', () => {
    expect(sseMessage({ data: 'x' })).toEqual(bytes('data:x\n\n'));
    expect(sseMessage({ data: '1F602' }).toString('utf8')).toBe('data:1F602\n\n');
  });

  it('encodes empty data as an empty data line', () => {
    expect(sseMessage({ data: '' })).toEqual(bytes('data:\n\n'));
  });

  it('puts the event line before the data line', () => {
    const tweet = '{"id":"1","text":"hi \u2665"}';
    expect(sseMessage({ event: 'stream.tweet_updates.2665', data: tweet })).toEqual(
      bytes(`event:stream.tweet_updates.2665\ndata:${tweet}\n\n`),
    );
  });

  it('puts an id line between event and data, numbers as written', () => {
    expect(sseMessage({ event: 'e', id: 7, data: 'x' })).toEqual(
      bytes('event:e\nid:7\ndata:x\n\n'),
    );
    expect(sseMessage({ id: 'a-1', data: 'x' })).toEqual(bytes('id:a-1\ndata:x\n\n'));
    expect(sseMessage({ id: 0, data: 'x' })).toEqual(bytes('id:0\ndata:x\n\n'));
  });

  it('splits a multi-line payload into one data line per line, for every line ending', () => {
    expect(sseMessage({ data: 'a\nb\nc' })).toEqual(bytes('data:a\ndata:b\ndata:c\n\n'));
    expect(sseMessage({ data: 'a\r\nb' })).toEqual(bytes('data:a\ndata:b\n\n'));
    expect(sseMessage({ data: 'a\rb' })).toEqual(bytes('data:a\ndata:b\n\n'));
    // CR LF is one break, not two; LF CR is two.
    expect(sseMessage({ data: 'a\n\rb' })).toEqual(bytes('data:a\ndata:\ndata:b\n\n'));
  });

  it('keeps leading, trailing and blank lines, so the client rebuilds the payload exactly', () => {
    expect(sseMessage({ data: 'a\n' })).toEqual(bytes('data:a\ndata:\n\n'));
    expect(sseMessage({ data: '\na' })).toEqual(bytes('data:\ndata:a\n\n'));
    expect(sseMessage({ data: 'a\n\nb' })).toEqual(bytes('data:a\ndata:\ndata:b\n\n'));
  });

  it('writes the payload unchanged: spaces, colons and JSON stay as they are', () => {
    // EventSource drops one space after "data:", so a line that begins with a space gets another.
    expect(sseMessage({ data: ' leading space: kept' })).toEqual(
      bytes('data:  leading space: kept\n\n'),
    );
    expect(sseMessage({ data: 'a\n b' })).toEqual(bytes('data:a\ndata:  b\n\n'));
    expect(sseMessage({ data: '<message><status>ok</status></message>' })).toEqual(
      bytes('data:<message><status>ok</status></message>\n\n'),
    );
  });

  it('encodes as UTF-8', () => {
    const encoded = sseMessage({ data: '\u{1F602}\u2665' });
    expect(encoded).toEqual(
      Buffer.from([...bytes('data:'), 0xf0, 0x9f, 0x98, 0x82, 0xe2, 0x99, 0xa5, 0x0a, 0x0a]),
    );
  });
});

describe('sseComment', () => {
  it('encodes a comment line and a blank line', () => {
    expect(sseComment('ok')).toEqual(bytes(':ok\n\n'));
    expect(sseComment('keepalive 2024')).toEqual(bytes(':keepalive 2024\n\n'));
  });

  it('encodes an empty comment by default', () => {
    expect(sseComment()).toEqual(bytes(':\n\n'));
  });
});

describe('sseRetry', () => {
  it('encodes the reconnection delay in whole milliseconds', () => {
    expect(sseRetry(100)).toEqual(bytes('retry:100\n\n'));
    expect(sseRetry(500)).toEqual(bytes('retry:500\n\n'));
    expect(sseRetry(99.6)).toEqual(bytes('retry:100\n\n'));
    expect(sseRetry(0)).toEqual(bytes('retry:0\n\n'));
  });
});

describe('rollupJson', () => {
  it('writes the ids in the order of the rollup, integer-like ids included', () => {
    const rollup = new Map([
      ['0031-20E3', 1],
      ['1F602', 2],
      ['26', 4],
      ['2665', 1],
    ]);
    // JSON.stringify of an object would move "26" and "2665" to the front.
    expect(rollupJson(rollup)).toBe('{"0031-20E3":1,"1F602":2,"26":4,"2665":1}');
  });

  it('writes one id without a separator, and no ids as an empty object', () => {
    expect(rollupJson(new Map([['1F602', 2]]))).toBe('{"1F602":2}');
    expect(rollupJson(new Map())).toBe('{}');
  });

  it('writes compact JSON that parses back to the same counts', () => {
    const rollup = new Map([
      ['1F1FA-1F1F8', 3],
      ['2764', 10],
      ['a"b\\c', 1],
    ]);
    const json = rollupJson(rollup);
    expect(json).not.toMatch(/\s/);
    expect(new Map(Object.entries(JSON.parse(json) as Record<string, number>))).toEqual(rollup);
  });

  it('makes the eps wire line the SSE spec documents', () => {
    const rollup = new Map([
      ['1F602', 2],
      ['2665', 1],
    ]);
    expect(sseMessage({ data: rollupJson(rollup) })).toEqual(
      bytes('data:{"1F602":2,"2665":1}\n\n'),
    );
  });
});

describe('field values that could break the framing', () => {
  it('drops line breaks from event and id values', () => {
    expect(sseMessage({ event: 'a\nevent:evil', id: '1\r\n2', data: 'x' }).toString()).toBe(
      'event:aevent:evil\nid:12\ndata:x\n\n',
    );
  });
});
