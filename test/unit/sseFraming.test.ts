// The SSE framings' bytes: a turn's events as one HTTP/1.1 chunk, with its
// length in hex, and the per-connection framing that puts an id before each event.
import { describe, expect, it } from 'vitest';
import {
  SSE_CHUNKED,
  SSE_PLAIN,
  eventIds,
  httpChunk,
  httpChunkOf,
} from '../../src/transports/sse/sseFraming.js';

const events = [Buffer.from('data:a\n\n'), Buffer.from('data:é\n\n')];

describe('SSE framing', () => {
  it('frames a turn as one chunk: its byte length in hex, the events, CRLF', () => {
    const chunk = SSE_CHUNKED.frame(events);
    expect(chunk.toString('utf8')).toBe('11\r\ndata:a\n\ndata:é\n\n\r\n');
    expect(httpChunkOf(events)).toEqual(httpChunk(Buffer.concat(events)));
  });

  it('puts each event’s id before it, from the message it was encoded from', () => {
    let n = 7;
    const framing = eventIds(SSE_PLAIN, (m) => `${String(m)}-${n++}`);
    expect(framing.perConnection).toBe(true);
    expect(framing.frame(events, ['x', 'y']).toString('utf8')).toBe(
      'id:x-7\ndata:a\n\nid:y-8\ndata:é\n\n',
    );
    const chunked = eventIds(SSE_CHUNKED, () => 'p1.ab');
    expect(chunked.frame([events[0] as Buffer]).toString('utf8')).toBe(
      '11\r\nid:p1.ab\ndata:a\n\n\r\n',
    );
  });

  it('writes each event the id it is given, as it repeats, changes and comes back', () => {
    let id = 'p1.ab';
    const framing = eventIds(SSE_CHUNKED, () => id);
    const first = events[0] as Buffer;
    expect(framing.frame([first]).toString('utf8')).toBe('11\r\nid:p1.ab\ndata:a\n\n\r\n');
    expect(framing.frame(events).toString('utf8')).toBe(
      '23\r\nid:p1.ab\ndata:a\n\nid:p1.ab\ndata:é\n\n\r\n',
    );
    id = 'p2.é';
    expect(framing.frame([first]).toString('utf8')).toBe('11\r\nid:p2.é\ndata:a\n\n\r\n');
    id = 'p1.ab';
    expect(framing.frame([first]).toString('utf8')).toBe('11\r\nid:p1.ab\ndata:a\n\n\r\n');
  });

  it('frames an empty turn as an empty chunk body', () => {
    expect(SSE_CHUNKED.frame([]).toString('latin1')).toBe('0\r\n\r\n');
  });
});
