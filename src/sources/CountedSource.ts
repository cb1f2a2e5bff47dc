// A pub/sub source that counts the messages it takes in, for the "messages in"
// metric. Each channel or pattern is counted once however many streams use it.
import { share, tap } from 'rxjs';
import type { Observable } from 'rxjs';
import type { BusMessage, PubSubSource } from '../core/message.js';

export class CountedSource implements PubSubSource {
  /** Messages received on every channel and pattern in use (as Redis delivers them). */
  received = 0;
  private readonly streams = new Map<string, Observable<BusMessage>>();

  constructor(readonly inner: PubSubSource) {}

  channel(name: string): Observable<BusMessage> {
    return this.counted(`c:${name}`, () => this.inner.channel(name));
  }

  pattern(glob: string): Observable<BusMessage> {
    return this.counted(`p:${glob}`, () => this.inner.pattern(glob));
  }

  private counted(key: string, open: () => Observable<BusMessage>): Observable<BusMessage> {
    let stream = this.streams.get(key);
    if (!stream) {
      // The inner source keeps its own grace period; this share only makes the
      // count happen once per message rather than once per subscriber.
      stream = open().pipe(
        tap(() => this.received++),
        share(),
      );
      this.streams.set(key, stream);
    }
    return stream;
  }
}
