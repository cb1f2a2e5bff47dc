// How the floors write what rx's hub writes, and no more: the bytes queued for
// a stream during a loop turn go out joined, the same Buffer to each of its
// sockets, at most WRITES_PER_TURN socket writes a loop turn (streams with the
// fewest sockets left first). Timers so keep their time while thousands of
// sockets are written, and what arrives during a stream's pass goes out joined
// in its next: under load one write carries several messages, as rx's do.
import type { Socket } from 'node:net';

/** rx's hub writes this many clients a loop turn (its maxWritesPerTurn). */
const WRITES_PER_TURN = 256;
/** Loop turns a pass may be overtaken by smaller ones before it gets a quarter of each (as rx). */
const OVERTAKEN_TURNS = 8;

/** Sockets that get the same bytes: an SSE stream, a channel's WebSocket clients. */
export class FloorStream {
  readonly sockets = new Set<Socket>();
  queued: Buffer[] = [];
  /** The pass being written: its bytes, its sockets, the next one to write and its age in loop turns. */
  bytes: Buffer | undefined;
  targets: Socket[] = [];
  next = 0;
  turns = 0;

  get remaining(): number {
    return this.targets.length - this.next;
  }
}

export class TurnWriter {
  /** Streams with queued bytes and no pass being written. */
  private dirty = new Set<FloorStream>();
  private writing: FloorStream[] = [];
  private scheduled = false;
  /** The most unsent bytes a socket held right after a write. */
  maxBuffered = 0;

  queue(stream: FloorStream, bytes: Buffer): void {
    stream.queued.push(bytes);
    if (stream.bytes === undefined) this.dirty.add(stream);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  private write(stream: FloorStream, count: number): number {
    const bytes = stream.bytes as Buffer;
    const end = Math.min(stream.targets.length, stream.next + count);
    const written = end - stream.next;
    for (; stream.next < end; stream.next++) {
      const socket = stream.targets[stream.next] as Socket;
      if (!socket.writable) continue;
      socket.write(bytes);
      if (socket.writableLength > this.maxBuffered) this.maxBuffered = socket.writableLength;
    }
    return written;
  }

  private run(): void {
    this.scheduled = false;
    const carried = this.writing.length;
    for (const stream of this.dirty) {
      stream.bytes = stream.queued.length === 1 ? stream.queued[0] : Buffer.concat(stream.queued);
      stream.queued = [];
      stream.targets = [...stream.sockets];
      stream.next = 0;
      stream.turns = 0;
      this.writing.push(stream);
    }
    this.dirty.clear();
    let budget = WRITES_PER_TURN;
    const oldest = carried > 0 ? this.writing[0] : undefined;
    if (oldest && oldest.turns >= OVERTAKEN_TURNS)
      budget -= this.write(oldest, WRITES_PER_TURN / 4);
    for (const stream of [...this.writing].sort((a, b) => a.remaining - b.remaining)) {
      if (budget <= 0) break;
      budget -= this.write(stream, budget);
    }
    this.writing = this.writing.filter((stream) => {
      stream.turns++;
      if (stream.remaining > 0) return true;
      stream.bytes = undefined;
      stream.targets = [];
      if (stream.queued.length > 0) this.dirty.add(stream);
      return false;
    });
    if (this.writing.length > 0 || this.dirty.size > 0) {
      this.scheduled = true;
      setImmediate(() => this.run());
    }
  }
}
