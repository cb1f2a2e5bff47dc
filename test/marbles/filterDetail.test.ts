// Marble tests for filterDetail and detailIdOf: a detail stream hears only the
// channel naming exactly its id, never a prefix or an extension of it.
import { describe, expect, it } from 'vitest';
import { detailIdOf, filterDetail } from '../../src/operators/filterDetail.js';
import type { BusMessage } from '../../src/core/message.js';
import { testScheduler } from './testScheduler.js';

const tweet = (channel: string): BusMessage => ({ channel, payload: '{}', receivedAt: 0 });

const messages = {
  a: tweet('stream.tweet_updates.2665'),
  b: tweet('stream.tweet_updates.26'),
  c: tweet('stream.tweet_updates.1F602'),
  d: tweet('stream.tweet_updates.26650'),
  e: tweet('stream.tweet_updates.2665.extra'),
  f: tweet('stream.tweet_updates'),
  g: tweet('stream.tweet_updates.0031-20E3'),
};

describe('detailIdOf', () => {
  it('is the third dot-separated part of the channel', () => {
    expect(detailIdOf('stream.tweet_updates.1F602')).toBe('1F602');
    expect(detailIdOf('stream.tweet_updates.0031-20E3')).toBe('0031-20E3');
    expect(detailIdOf('stream.tweet_updates.1F1FA-1F1F8')).toBe('1F1FA-1F1F8');
    expect(detailIdOf('stream.interaction.request')).toBe('request');
  });

  it('is empty for channels with fewer than three parts', () => {
    expect(detailIdOf('')).toBe('');
    expect(detailIdOf('stream')).toBe('');
    expect(detailIdOf('stream.tweet_updates')).toBe('');
    expect(detailIdOf('stream.tweet_updates.')).toBe('');
  });

  it('ignores parts after the third', () => {
    expect(detailIdOf('stream.tweet_updates.2665.extra')).toBe('2665');
    expect(detailIdOf('stream.tweet_updates.2665.')).toBe('2665');
    expect(detailIdOf('a.b.c.d.e')).toBe('c');
  });

  it('counts empty parts as parts', () => {
    expect(detailIdOf('stream..2665')).toBe('2665');
    expect(detailIdOf('..2665')).toBe('2665');
  });
});

describe('filterDetail', () => {
  it('passes nothing from a source that never emits', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot<BusMessage>('-');
      expectObservable(source.pipe(filterDetail('2665'))).toBe('-');
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('completes for an empty source', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<BusMessage>('|');
      expectObservable(source.pipe(filterDetail('2665'))).toBe('|');
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });

  it('passes one matching message at its own frame', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('--a--|', messages);
      expectObservable(source.pipe(filterDetail('2665'))).toBe('--a--|', messages);
    });
  });

  it('matches exactly: "2665" hears neither "26" nor "26650"', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-abcdefg-a-|', messages);
      // The channel with a fourth part still names 2665 as its third.
      expectObservable(source.pipe(filterDetail('2665'))).toBe('-a---e---a-|', messages);
    });
  });

  it('matches exactly: "26" never hears "2665"', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-abcdefg-b-|', messages);
      expectObservable(source.pipe(filterDetail('26'))).toBe('--b------b-|', messages);
    });
  });

  it('matches multi-codepoint ids and is case-sensitive', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-abcdefg-|', messages);
      expectObservable(source.pipe(filterDetail('0031-20E3'))).toBe('-------g-|', messages);
      expectObservable(source.pipe(filterDetail('1f602'))).toBe('---------|');
    });
  });

  it('passes an error through', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const error = new Error('redis gone');
      const source = hot('-a-b-#', messages, error);
      expectObservable(source.pipe(filterDetail('2665'))).toBe('-a---#', messages, error);
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('keeps filtering a source that never ends', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-a-c-a-', messages);
      expectObservable(source.pipe(filterDetail('2665'))).toBe('-a---a---a-', messages);
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('unsubscribes from the source on early unsubscribe', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-a-c-a-|', messages);
      const unsub = '     ^------!';
      expectObservable(source.pipe(filterDetail('2665')), unsub).toBe('-a---a-', messages);
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
  });
});
