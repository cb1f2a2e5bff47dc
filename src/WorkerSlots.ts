// The cluster primary's hand-off of connections to its workers. Each worker
// has a slot, which its replacement takes over: a connection whose SockJS
// session hashes to a slot waits for that slot's worker (one being replaced
// included), any other goes to the next slot whose worker is ready. One
// connection at a time is on its way to each worker, sent with its handle
// kept open here until the worker says it took it, so that one a worker never
// got (it died) can go to another.
import type { Worker } from 'node:cluster';
import type { Socket } from 'node:net';
import { slotOf } from './transports/http/sessionRoute.js';

/** Primary to worker, with the socket: what the primary read, base64, and the worker's slot. */
export interface HandoffMessage {
  readonly cmd: 'rxs:handoff';
  readonly received: string;
  readonly slot: number;
  readonly slots: number;
}
/** Worker to primary: serving handed connections. */
export const READY = 'rxs:ready';
/** Worker to primary, after each hand-off: it has the connection. */
export const TAKEN = 'rxs:taken';

export function isHandoff(message: unknown): message is HandoffMessage {
  return (message as Partial<HandoffMessage> | null)?.cmd === 'rxs:handoff';
}

/** A connection routed to a slot, waiting for its worker. */
interface Handoff {
  readonly socket: Socket;
  readonly received: Buffer;
  /** Bound to its slot by its session; any slot takes the others. */
  readonly pinned: boolean;
  readonly queuedAt: number;
}

interface Slot {
  readonly index: number;
  worker: Worker;
  /** Its worker said READY; false from its death until its replacement's. */
  ready: boolean;
  /** The connection on its way to the worker, until it is TAKEN. */
  inFlight: Handoff | undefined;
  readonly queue: Handoff[];
  /** What the queued connections sent, held here until their worker takes them. */
  queuedBytes: number;
}

const UNAVAILABLE =
  'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
/** Connections, and bytes they sent, a slot may hold while its worker is away. */
const MAX_QUEUED = 10_000;
const MAX_QUEUED_BYTES = 32 * 1024 * 1024;

export class WorkerSlots {
  private readonly slots: Slot[] = [];
  private turn = 0;
  private stopped = false;
  private readonly expiry: NodeJS.Timeout;

  /**
   * `count` slots; a connection that waits `handoffTimeoutMs` for its slot's
   * worker (a replacement that cannot start) is answered 503.
   */
  constructor(
    private readonly count: number,
    handoffTimeoutMs: number,
  ) {
    this.expiry = setInterval(
      () => {
        const tooOld = Date.now() - handoffTimeoutMs;
        for (const slot of this.slots) {
          while (slot.queue.length > 0 && (slot.queue[0] as Handoff).queuedAt <= tooOld) {
            refuse(this.dequeue(slot).socket);
          }
        }
      },
      Math.min(1_000, handoffTimeoutMs),
    );
    this.expiry.unref();
  }

  /** Gives slot `index` to a worker: a new one, or the replacement of one that died. */
  assign(index: number, worker: Worker): void {
    let slot = this.slots[index];
    if (slot) {
      // What waits goes to the replacement. What was on its way may have been
      // served in part: it is closed rather than answered twice.
      slot.inFlight?.socket.destroy();
      slot.inFlight = undefined;
      slot.ready = false;
      slot.worker = worker;
    } else {
      slot = { index, worker, ready: false, inFlight: undefined, queue: [], queuedBytes: 0 };
      this.slots[index] = slot;
    }
    const own = slot;
    // The channel closes before 'exit' is heard: nothing more is sent its way.
    worker.on('disconnect', () => {
      if (own.worker === worker) own.ready = false;
    });
    worker.on('message', (message: { cmd?: unknown } | null) => {
      if (own.worker !== worker) return;
      if (message?.cmd === READY) {
        own.ready = true;
      } else if (message?.cmd === TAKEN) {
        // The worker holds its own descriptor of the connection now.
        own.inFlight?.socket.destroy();
        own.inFlight = undefined;
      } else return;
      this.send(own);
    });
  }

  /** The slot a worker holds. */
  slotOf(worker: Worker): number | undefined {
    return this.slots.find((s) => s.worker === worker)?.index;
  }

  /** Passes a connection (not reading) on, with what it sent so far. */
  route(socket: Socket, received: Buffer, sessionId: string | undefined): void {
    if (this.stopped) return void socket.destroy();
    const pinned = sessionId !== undefined;
    const slot = pinned ? (this.slots[slotOf(sessionId, this.count)] as Slot) : this.anySlot();
    this.enqueue(slot, { socket, received, pinned, queuedAt: Date.now() });
  }

  /** Drops every connection not yet with a worker (at shutdown). */
  close(): void {
    this.stopped = true;
    clearInterval(this.expiry);
    for (const slot of this.slots) {
      while (slot.queue.length > 0) this.dequeue(slot).socket.destroy();
    }
  }

  private enqueue(slot: Slot, handoff: Handoff, first = false): void {
    if (
      slot.queue.length >= MAX_QUEUED ||
      slot.queuedBytes + handoff.received.length > MAX_QUEUED_BYTES
    ) {
      return refuse(handoff.socket);
    }
    if (first) slot.queue.unshift(handoff);
    else slot.queue.push(handoff);
    slot.queuedBytes += handoff.received.length;
    this.send(slot);
  }

  /** Takes the first connection off a slot's queue (which is not empty). */
  private dequeue(slot: Slot): Handoff {
    const handoff = slot.queue.shift() as Handoff;
    slot.queuedBytes -= handoff.received.length;
    return handoff;
  }

  /** The next slot in turn whose worker is ready (or the next one, when none is). */
  private anySlot(): Slot {
    for (let i = 0; i < this.count; i++) {
      const slot = this.slots[this.turn++ % this.count] as Slot;
      if (slot.ready) return slot;
    }
    return this.slots[this.turn++ % this.count] as Slot;
  }

  private send(slot: Slot): void {
    while (slot.ready && !slot.inFlight && slot.queue.length > 0) {
      const next = this.dequeue(slot);
      if (next.socket.destroyed) continue;
      slot.inFlight = next;
      const message: HandoffMessage = {
        cmd: 'rxs:handoff',
        received: next.received.toString('base64'),
        slot: slot.index,
        slots: this.count,
      };
      const worker = slot.worker;
      // keepOpen: on an error (a worker that died before the primary heard of it)
      // the socket is still whole here, and waits again: for its slot's next
      // worker when its session binds it, for the next ready one otherwise.
      worker.send(message, next.socket, { keepOpen: true }, (err: Error | null) => {
        if (!err || slot.inFlight !== next) return;
        slot.inFlight = undefined;
        slot.ready = false;
        this.enqueue(next.pinned ? slot : this.anySlot(), next, true);
      });
    }
  }
}

/** Answers 503 and closes a connection no worker will take. */
function refuse(socket: Socket): void {
  socket.on('error', () => {});
  socket.end(UNAVAILABLE, () => socket.destroy());
}
