// Writes what the topics queued: each topic's turn to each of its clients, at
// most `maxWritesPerTurn` client writes per event-loop turn, fewest remaining
// clients first (a turn overtaken for long gets a share of each). A tweet for
// two hundred clients so never waits behind an eps tick for thousands, and the
// loop reads its sockets between slices. A client gets its topic's turns in
// order, one write per loop turn at the most, and a client that stops reading
// is dropped instead of holding memory. Keepalives share the same budget.
import { performance } from 'node:perf_hooks';
import type { Logger } from '../core/logger.js';
import type { Connection, SendBound } from './Connection.js';
import type { Topic } from './Topic.js';

export interface TopicWriterOptions {
  readonly maxWritesPerTurn: number;
  /** Unsent bytes a client may hold before it is dropped as too slow. */
  readonly maxBufferBytes: number;
  /** How long a client may stay over maxBufferBytes; past 4× the bound it goes at once. */
  readonly slowClientTimeoutMs: number;
  /** Counters it adds to (the hub's stats). */
  readonly stats: { deliveries: number; bytesWritten: number; slowClientsDropped: number };
  /** Told how long each loop turn's writing took (ms). */
  readonly turnMs?: (ms: number) => void;
  readonly log: Logger;
}

/** Loop turns a turn may be overtaken by smaller ones before it gets a share of each. */
const OVERTAKEN_TURNS = 8;

export class TopicWriter implements SendBound {
  /** Topics with queued messages and no turn being written. */
  private dirty: Topic[] = [];
  /** Topics whose turn is being written, a slice per loop turn. */
  private writing: Topic[] = [];
  /** Connections still to be sent a keepalive, from `pingNext` on. */
  private pings: Connection[] = [];
  private pingNext = 0;
  private scheduled = false;

  constructor(private readonly options: TopicWriterOptions) {}

  get maxBufferBytes(): number {
    return this.options.maxBufferBytes;
  }

  /** A write left a client over the bound: dropped past 4× it, or once over it for too long. */
  over(c: Connection, unsent: number, now = Date.now()): void {
    const overForMs = c.markOver(now);
    if (unsent > 4 * this.options.maxBufferBytes || overForMs > this.options.slowClientTimeoutMs)
      this.drop(c, unsent);
  }

  /** Queues a message on a topic, for the end of this loop turn. */
  queue(topic: Topic, message: unknown): void {
    if (!topic.add(message) || topic.isWriting) return;
    this.dirty.push(topic);
    this.schedule();
  }

  /** Sends each connection its framing's keepalive, within the same per-turn budget. */
  keepalive(connections: Iterable<Connection>): void {
    this.pings = [...this.pings.slice(this.pingNext), ...connections];
    this.pingNext = 0;
    if (this.pings.length > 0) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  private run(): void {
    this.scheduled = false;
    const { stats, maxBufferBytes, maxWritesPerTurn, turnMs } = this.options;
    const started = turnMs ? performance.now() : 0;
    const carried = this.writing.length;
    for (const topic of this.dirty) {
      if (topic.begin() || topic.isWriting) this.writing.push(topic);
    }
    this.dirty = [];
    let now = 0;
    const onOver = (c: Connection, unsent: number) => {
      now ||= Date.now();
      this.over(c, unsent, now);
    };
    let budget = maxWritesPerTurn;
    const write = (topic: Topic, clients: number) => {
      const n = Math.min(clients, topic.remaining);
      topic.writeSome(n, maxBufferBytes, onOver, stats);
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
    // Keepalives take what is left, and at least a quarter, so they always progress.
    if (this.pingNext < this.pings.length) {
      const end = Math.min(
        this.pings.length,
        this.pingNext + Math.max(budget, Math.ceil(maxWritesPerTurn / 4)),
      );
      for (let i = this.pingNext; i < end; i++) {
        const c = this.pings[i] as Connection;
        const bytes = c.framing.keepalive;
        if (c.closed || !bytes) continue;
        const unsent = c.write(bytes);
        stats.bytesWritten += bytes.length;
        if (unsent > maxBufferBytes) onOver(c, unsent);
      }
      this.pingNext = end;
      if (end === this.pings.length) {
        this.pings = [];
        this.pingNext = 0;
      }
    }
    if (this.writing.length > 0 || this.dirty.length > 0 || this.pings.length > 0) this.schedule();
    if (turnMs) turnMs(performance.now() - started);
  }

  private drop(connection: Connection, unsent: number): void {
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
