// Marble tests for shareWithGrace: one upstream subscription for all subscribers,
// kept for graceMs after the last one leaves, and a fresh one after an end.
import { describe, it } from 'vitest';
import { shareWithGrace } from '../../src/operators/shareWithGrace.js';
import { testScheduler } from './testScheduler.js';

describe('shareWithGrace', () => {
  it('passes nothing from a source that never emits', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-');
      const shared = source.pipe(shareWithGrace(5, scheduler));
      expectObservable(shared).toBe('-');
      expectObservable(shared).toBe('-');
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('completes every subscriber of an empty source', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('|');
      const shared = source.pipe(shareWithGrace(5, scheduler));
      expectObservable(shared).toBe('|');
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });

  it('passes one value and the completion', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('--a--|');
      expectObservable(source.pipe(shareWithGrace(5, scheduler))).toBe('--a--|');
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('subscribes upstream once for many subscribers; late ones miss earlier values', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-e-|');
      const shared = source.pipe(shareWithGrace(5, scheduler));
      expectObservable(shared).toBe('          -a-b-c-d-e-|');
      expectObservable(shared, '  --^').toBe('  ---b-c-d-e-|');
      expectObservable(shared, '  ------^').toBe('-------d-e-|');
      expectSubscriptions(source.subscriptions).toBe('^----------!');
    });
  });

  it('unsubscribes upstream graceMs after the last subscriber leaves', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-e-f-g-h-|');
      const shared = source.pipe(shareWithGrace(5, scheduler));
      expectObservable(shared, '^---!').toBe('-a-b');
      expectObservable(shared, '^-----!').toBe('-a-b-c');
      // The last subscriber leaves at 6; the upstream goes at 6 + 5.
      expectSubscriptions(source.subscriptions).toBe('^----------!');
    });
  });

  it('reuses the upstream for a subscriber arriving within the grace', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-e-f-g-h-i-j-|');
      const shared = source.pipe(shareWithGrace(5, scheduler));
      expectObservable(shared, '^---!').toBe('        -a-b');
      // Arrives at 6, within the grace that started at 4: it hears the running
      // upstream (d, e, f), not a restarted one (which would begin with a).
      expectObservable(shared, '------^-----!').toBe('-------d-e-f');
      expectSubscriptions(source.subscriptions).toBe('^ 16ms !');
    });
  });

  it('subscribes upstream afresh for a subscriber arriving after the grace', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-e-f-g-h-|');
      const shared = source.pipe(shareWithGrace(5, scheduler));
      expectObservable(shared, '^---!').toBe('         -a-b');
      expectObservable(shared, '-----------^---!').toBe('------------a-b');
      expectSubscriptions(source.subscriptions).toBe(['^--------!', '-----------^--------!']);
    });
  });

  it('unsubscribes upstream at once with graceMs 0', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-e-f-g-h-|');
      const shared = source.pipe(shareWithGrace(0, scheduler));
      expectObservable(shared, '^---!').toBe('-a-b');
      expectObservable(shared, '-----^---!').toBe('------a-b');
      expectSubscriptions(source.subscriptions).toBe(['^---!', '-----^---!']);
    });
  });

  it('passes an error to every subscriber and subscribes afresh after it', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const error = new Error('redis gone');
      const source = cold('-a-#', undefined, error);
      const shared = source.pipe(shareWithGrace(5, scheduler));
      expectObservable(shared).toBe('-a-#', undefined, error);
      expectObservable(shared, '--^').toBe('---#', undefined, error);
      expectObservable(shared, '-----^').toBe('------a-#', undefined, error);
      expectSubscriptions(source.subscriptions).toBe(['^--!', '-----^--!']);
    });
  });

  it('subscribes afresh after the upstream completed', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-|');
      const shared = source.pipe(shareWithGrace(5, scheduler));
      expectObservable(shared).toBe('-a-|');
      expectObservable(shared, '-----^').toBe('------a-|');
      expectSubscriptions(source.subscriptions).toBe(['^--!', '-----^--!']);
    });
  });

  it('keeps a never-ending upstream until the grace after the last subscriber', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-e-f-g-h-i-j-k-l-');
      const shared = source.pipe(shareWithGrace(3, scheduler));
      expectObservable(shared, '^ 10ms !').toBe('-a-b-c-d-e-');
      expectSubscriptions(source.subscriptions).toBe('^ 13ms !');
    });
  });
});
