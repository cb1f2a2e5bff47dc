// Marble tests for watchGaps: every message passes on at the frame it came,
// and a skipped offset or a new epoch is told just before the message that
// shows it; messages without a position change nothing.
import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { BusMessage } from '../../src/core/message.js';
import type { Position } from '../../src/core/position.js';
import { watchGaps } from '../../src/operators/watchGaps.js';
import { testScheduler } from './testScheduler.js';

const at = (epoch: string, offset: number): BusMessage => ({
  channel: 'c',
  payload: `${epoch}${offset}`,
  receivedAt: 0,
  position: { epoch, offset },
});
const bare: BusMessage = { channel: 'c', payload: 'bare', receivedAt: 0 };

const m = {
  a: at('e', 1),
  b: at('e', 2),
  c: at('e', 3),
  d: at('e', 5),
  f: at('x', 6),
  n: bare,
  o: at('e', 2),
};

/** The gaps told, as `<last offset>→<next offset>@<frame>`, and the messages passed on. */
function run(
  source: string,
  expected: string,
  gaps: string[],
  subscription = '^',
  unsubscribe?: string,
) {
  const told: string[] = [];
  testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
    const input = cold<BusMessage>(source, m);
    const out = input.pipe(
      watchGaps((last: Position, next) => told.push(`${last.epoch}${last.offset}→${next.payload}`)),
    );
    expectObservable(out, unsubscribe).toBe(expected, m);
    expectSubscriptions(input.subscriptions).toBe(subscription);
  });
  expect(told).toEqual(gaps);
}

describe('watchGaps', () => {
  it('passes nothing and tells nothing for a source that never emits', () => {
    run('-', '-', []);
  });

  it('completes for an empty source', () => {
    run('|', '|', [], '(^!)');
  });

  it('tells nothing for one message, nor for consecutive offsets', () => {
    run('a', 'a', []);
    run('a-b--c|', 'a-b--c|', [], '^-----!');
  });

  it('tells a skipped offset, at the frame of the message that shows it', () => {
    run('a-b-d|', 'a-b-d|', ['e2→e5'], '^----!');
  });

  it('tells a new epoch as a gap, and follows the new epoch from then on', () => {
    run('a-f-b|', 'a-f-b|', ['e1→x6', 'x6→e2'], '^----!');
  });

  it('ignores messages without a position, and ones at or before the last offset', () => {
    run('a-n-o-b-c|', 'a-n-o-b-c|', [], '^--------!');
  });

  it('passes an error on after the messages before it', () => {
    run('a-d-#', 'a-d-#', ['e1→e5'], '^---!');
  });

  it('errors, without the message, when onGap throws', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold<BusMessage>('a-d-b|', m);
      const out = input.pipe(
        watchGaps(() => {
          throw new Error('told');
        }),
      );
      expectObservable(out).toBe('a-#', m, new Error('told'));
      expectSubscriptions(input.subscriptions).toBe('^-!');
    });
  });

  it('stops at an early unsubscribe', () => {
    run('a-b-d', 'a-b', [], '^--!', '^--!');
  });

  it('starts afresh for each subscriber', () => {
    const told: string[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const input = cold<BusMessage>('a-d|', m);
      const out = input.pipe(watchGaps((last) => told.push(String(last.offset))));
      expectObservable(out).toBe('a-d|', m);
      expectObservable(out.pipe(tap(() => undefined))).toBe('a-d|', m);
    });
    expect(told).toEqual(['1', '1']);
  });
});
