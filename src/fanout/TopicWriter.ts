// Writes what the topics queued: each topic's turn to each of its clients, at
// most `maxWritesPerTurn` client writes per event-loop turn, fewest remaining
// clients first (a turn overtaken for long gets a share of each). A tweet for
// two hundred clients so never waits behind an eps tick for thousands, and the
// loop reads its sockets between slices. A client gets its topic's turns in
// order, one write per loop turn at the most, and a client that stops reading
// is dropped instead of holding memory.
import { performance } from 'node:perf_hooks';
import { Subject } from 'rxjs';
import type { Logger } from '../core/logger.js';
import type { SseConnection } from '../transports/sse/SseConnection.js';
import type { SseTopic } from './Topic.js';

export interface TopicWriterOptions {
  readonly maxWritesPerTurn: number;
  /** Unsent bytes a client may hold before it is dropped as too slow. */
  readonly maxBufferBytes: number;
  /** How long a client may stay over maxBufferBytes; past 4× the bound it goes at once. */
  readonly slowClientTimeoutMs: number;
  /** Counters it adds to (the hub's stats). */
  readonly stats: { deliveries: number; bytesWritten: number; slowClientsDropped: number };
  readonly log: Logger;
}

/** Loop turns a turn may be overtaken by smaller ones before it gets a share of each. */
const OVERTAKEN_TURNS = 8;

export class TopicWriter {
  /** How long each loop turn's writing took (ms); measured only while observed. */
  readonly turnMs = new Subject<number>();
  /** Topics with queued bytes and no turn being written. */
  private dirty: SseTopic[] = [];
  /** Topics whose turn is being written, a slice per loop turn. */
  private writing: SseTopic[] = [];
  private scheduled = false;

  constructor(private readonly options: TopicWriterOptions) {}

  /** Queues encoded bytes on a topic, for the end of this loop turn. */
  queue(topic: SseTopic, bytes: Buffer, isMessage: boolean): void {
    if (!topic.add(bytes, isMessage) || topic.isWriting) return;
    this.dirty.push(topic);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  private run(): void {
    this.scheduled = false;
    const { stats, maxBufferBytes, slowClientTimeoutMs, maxWritesPerTurn } = this.options;
    const timed = this.turnMs.observed;
    const started = timed ? performance.now() : 0;
    const carried = this.writing.length;
    for (const topic of this.dirty) {
      const deliveries = topic.begin();
      if (deliveries === 0 && !topic.isWriting) continue;
      stats.deliveries += deliveries;
      this.writing.push(topic);
    }
    this.dirty = [];
    let now = 0;
    const onOver = (c: SseConnection, unsent: number) => {
      now ||= Date.now();
      const overForMs = c.markOver(now);
      if (unsent > 4 * maxBufferBytes || overForMs > slowClientTimeoutMs) this.drop(c, unsent);
    };
    let budget = maxWritesPerTurn;
    const write = (topic: SseTopic, clients: number) => {
      const n = Math.min(clients, topic.remaining);
      stats.bytesWritten += topic.writeSome(n, maxBufferBytes, onOver);
      budget -= n;
    };
    // A turn still unfinished after several loop turns gets a quarter of every
    // one from then on, so a steady run of small turns cannot hold it back for ever.
    const oldest = carried > 0 ? this.writing[0] : undefined;
    if (oldest && oldest.turnsWriting >= OVERTAKEN_TURNS) {
      write(oldest, Math.ceil(maxWritesPerTurn / 4));
    }
    for (const topic of [...this.writing].sort((a, b) => a.remaining - b.remaining)) {
      if (budget <= 0) break;
      if (topic.isWriting) write(topic, budget);
    }
    this.writing = this.writing.filter((topic) => {
      topic.turnsWriting++;
      if (topic.isWriting) return true;
      // What arrived while the turn was being written goes out next loop turn.
      if (topic.hasPending) this.dirty.push(topic);
      return false;
    });
    if (this.writing.length > 0 || this.dirty.length > 0) this.schedule();
    if (timed) this.turnMs.next(performance.now() - started);
  }

  private drop(connection: SseConnection, unsent: number): void {
    this.options.stats.slowClientsDropped++;
    this.options.log.warn('slow client dropped', {
      requestPath: connection.info.requestPath,
      clientIp: connection.info.clientIp,
      unsentBytes: unsent,
      limitBytes: this.options.maxBufferBytes,
      overForMs: Date.now() - (connection.overSince ?? Date.now()),
    });
    connection.destroy();
  }
}
