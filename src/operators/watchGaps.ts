// Watches a channel's positions as its messages arrive: a message published
// with history whose offset skips one (or that starts another epoch) means
// messages were lost on the way (a subscriber connection that dropped, a
// history lost in Redis), and the clients must be told, never passed over.
import { Observable } from 'rxjs';
import type { MonoTypeOperatorFunction } from 'rxjs';
import type { BusMessage } from '../core/message.js';
import type { Position } from '../core/position.js';

/**
 * Passes every message on; calls `onGap` with the last position and the
 * message just before a message that does not follow the last one seen. A
 * message without a position (an outside PUBLISH) is passed on and changes nothing.
 */
export function watchGaps(
  onGap: (last: Position, next: BusMessage) => void,
): MonoTypeOperatorFunction<BusMessage> {
  // One subscriber rather than defer and tap: the hub holds one of these per
  // channel topic (a channel per user, say).
  return (source) =>
    new Observable<BusMessage>((subscriber) => {
      let last: Position | undefined;
      return source.subscribe({
        next: (m) => {
          const p = m.position;
          if (
            p !== undefined &&
            (last === undefined || p.epoch !== last.epoch || p.offset > last.offset)
          ) {
            const skipped =
              last !== undefined && (p.epoch !== last.epoch || p.offset > last.offset + 1);
            const before = last;
            last = p;
            // As in tap: a throwing onGap errors the stream, the message is not passed on.
            if (skipped) {
              try {
                onGap(before as Position, m);
              } catch (err) {
                subscriber.error(err);
                return;
              }
            }
          }
          subscriber.next(m);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
