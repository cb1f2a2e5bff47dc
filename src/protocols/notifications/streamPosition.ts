// Where a notification stream stands: the position of every channel it is
// in (the last message it was written on that channel, or the channel's top
// when it joined), given as each event's `id:`. EventSource sends the last
// one back as Last-Event-ID when it reconnects, to any instance, and the
// stream resumes every channel from there. Opaque to clients: base64url JSON.
// Until the stream is live (`ok`), a stream that came back with an id gives
// that id to its events: an `error` before `ok` (the instance's Redis not
// ready yet) must not make the client forget where it was.
import type { BusMessage } from '../../core/message.js';
import type { Position } from '../../core/position.js';
import { readPosition } from '../../core/position.js';

/** Longest id taken back: a user with a few hundred channels. */
const MAX_ID = 16_384;
const PREFIX = 'p1.';
/** An id as made here: the prefix and base64url, nothing that could break an `id:` line. */
const ID_SHAPE = /^p1\.[A-Za-z0-9_-]*$/;

export class StreamPosition {
  private readonly channels = new Map<string, Position>();
  /** The id for the positions now, made once per change. */
  private id: string | undefined;
  /** The id the stream came back with, given to its events until it is live. */
  private cameWith: string | undefined;

  constructor(cameWith?: string) {
    this.cameWith = cameWith === '' ? undefined : cameWith;
  }

  /** The stream is live (`ok` is next): from now on its events carry its own positions. */
  live(): void {
    this.cameWith = undefined;
  }

  get(channel: string): Position | undefined {
    return this.channels.get(channel);
  }

  set(channel: string, position: Position): void {
    this.channels.set(channel, position);
    this.id = undefined;
  }

  delete(channel: string): void {
    if (this.channels.delete(channel)) this.id = undefined;
  }

  /**
   * The id of an event about to be written: a message published with history
   * moves its channel's position to it first (see eventIds in sseFraming.ts).
   */
  readonly idFor = (message: unknown): string => {
    const position = (message as BusMessage | undefined)?.position;
    if (position) this.set((message as BusMessage).channel, position);
    return this.cameWith ?? (this.id ??= encode(this.channels));
  };

  /** The positions an id gave, or undefined for one this server did not make. */
  static parse(id: string): ReadonlyMap<string, Position> | undefined {
    if (id.length > MAX_ID || !ID_SHAPE.test(id)) return undefined;
    let entries: unknown;
    try {
      entries = JSON.parse(Buffer.from(id.slice(PREFIX.length), 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (!Array.isArray(entries)) return undefined;
    const positions = new Map<string, Position>();
    for (const entry of entries) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string') return undefined;
      const read = readPosition({ epoch: entry[1] as unknown, offset: entry[2] as unknown }, 'id');
      if ('problem' in read) return undefined;
      positions.set(entry[0], read.position);
    }
    return positions;
  }
}

function encode(channels: ReadonlyMap<string, Position>): string {
  const entries = [...channels].map(([channel, p]) => [channel, p.epoch, p.offset]);
  const id = PREFIX + Buffer.from(JSON.stringify(entries)).toString('base64url');
  // Flattened once: joined, it is a rope that every event's id line walks again.
  return Buffer.from(id, 'latin1').toString('latin1');
}
