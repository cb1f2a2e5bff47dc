// A notification stream's position as its events' ids: every channel's epoch
// and offset, moved by each message with a position; until the stream is live,
// the id it came back with; and what is taken back as an id of this server.
import { describe, expect, it } from 'vitest';
import type { BusMessage } from '../../src/core/message.js';
import { StreamPosition } from '../../src/protocols/notifications/streamPosition.js';

const message = (channel: string, offset: number, epoch = 'e1'): BusMessage => ({
  channel,
  payload: 'x',
  receivedAt: 0,
  position: { epoch, offset },
});

describe('StreamPosition', () => {
  it('gives every event the positions of all channels, moved by each message', () => {
    const p = new StreamPosition();
    p.set('room:1', { epoch: 'e1', offset: 4 });
    p.set('user:1', { epoch: 'u', offset: 0 });
    const atJoin = p.idFor(undefined);
    expect(StreamPosition.parse(atJoin)).toEqual(
      new Map([
        ['room:1', { epoch: 'e1', offset: 4 }],
        ['user:1', { epoch: 'u', offset: 0 }],
      ]),
    );
    const after = p.idFor(message('room:1', 5));
    expect(StreamPosition.parse(after)?.get('room:1')).toEqual({ epoch: 'e1', offset: 5 });
    // A message without a position (a bare PUBLISH) leaves it where it was.
    expect(p.idFor({ channel: 'room:1', payload: 'live', receivedAt: 0 })).toBe(after);
    p.delete('user:1');
    expect([...(StreamPosition.parse(p.idFor(undefined))?.keys() ?? [])]).toEqual(['room:1']);
  });

  it('until live, gives its events the id it came back with, then its own', () => {
    const before = new StreamPosition();
    before.set('room:1', { epoch: 'e1', offset: 7 });
    const cameWith = before.idFor(undefined);

    const p = new StreamPosition(cameWith);
    p.set('room:1', { epoch: 'e1', offset: 7 });
    p.set('room:2', { epoch: 'e2', offset: 1 });
    // An `error` before `ok` keeps the client where it was.
    expect(p.idFor(undefined)).toBe(cameWith);
    p.live();
    const own = p.idFor(undefined);
    expect(own).not.toBe(cameWith);
    expect(StreamPosition.parse(own)?.get('room:2')).toEqual({ epoch: 'e2', offset: 1 });
    // No id to come back with: the positions from the first event on.
    expect(new StreamPosition('').idFor(undefined)).toBe(new StreamPosition().idFor(undefined));
  });

  it('takes back only ids of its own shape', () => {
    const p = new StreamPosition();
    p.set('room:1', { epoch: 'e1', offset: 2 });
    const id = p.idFor(undefined);
    expect(StreamPosition.parse(id)).toBeDefined();
    for (const bad of [
      '',
      '42',
      `${id}\ndata:injected`,
      `${id}=`,
      `p2.${id.slice(3)}`,
      `p1.${Buffer.from('{"a":1}').toString('base64url')}`,
      `p1.${Buffer.from('[["room:1","e1",-1]]').toString('base64url')}`,
      `p1.${'A'.repeat(20_000)}`,
    ]) {
      expect(StreamPosition.parse(bad), JSON.stringify(bad.slice(0, 40))).toBeUndefined();
    }
  });
});
