// The recovery workload's clients: WebSocket pub/sub clients over raw sockets
// that follow their channel's offsets exactly (every message parsed), all go
// away at once when told, and all come back at once subscribing with `recover`
// from the last offset they hold. Each then times its catch-up: from its
// reconnect until it holds, in order and once each, every message published
// before that reconnect — known at the first message published after it.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { planFromArgv, send } from './ipc.js';
import type {
  RecoveryClientPlan,
  RecoveryCounts,
  RecoveryReport,
  ToRecoveryClients,
} from './ipc.js';
import { wallClockMs } from './traffic.js';
import { FrameReader, clientFrame } from './wsFrames.js';

const STATUS_UPGRADED = 'HTTP/1.1 101 ';
const HEAD_END = Buffer.from('\r\n\r\n');
const CONNECT_TIMEOUT_MS = 15_000;

type Counts = { -readonly [K in keyof RecoveryCounts]: number };
const zero = (): Counts => ({
  lost: 0,
  duplicates: 0,
  noOffset: 0,
  controlErrors: 0,
  gapNotices: 0,
});

const plan = planFromArgv<RecoveryClientPlan>();
const steady = zero();
const storm = zero();
let firstError: string | undefined;
/** Connections the server closed or that failed after they were subscribed. */
let disconnects = 0;
/** Clients whose subscribe with recover was answered with a control error. */
let refused = 0;
/** After the drop: counts go to `storm`. */
let afterDrop = false;

interface Frame {
  readonly controlMessage?: boolean;
  readonly content?: string;
  readonly error?: boolean;
  readonly gap?: boolean;
  readonly recovered?: boolean;
  readonly epoch?: string;
  readonly offset?: number;
  readonly message?: { readonly sent_at?: number };
}

class Client {
  socket: Socket | undefined;
  epoch: string | undefined;
  /** The highest offset received (or the top the acknowledgement gave). */
  last = 0;
  state:
    | 'connecting'
    | 'live'
    | 'away'
    | 'recovering'
    | 'caughtUp'
    | 'unrecovered'
    | 'refused'
    | 'failed' = 'connecting';
  /** Wall-clock ms of the reconnect, the recovery's acknowledgement, and the latest replayed message. */
  t0 = 0;
  ackAt = 0;
  lastMissedAt = 0;
  /** A loss or a duplicate since the reconnect. */
  dirty = false;
  caughtUpMs: number | undefined;
  /** ms from the reconnect to the 101 answer, and to the subscribe's acknowledgement. */
  upgradedMs: number | undefined;
  ackMs: number | undefined;
  replayed = 0;
  /** Resolves once the first acknowledgement arrived. */
  private subscribed: ((ok: boolean, reason?: string) => void) | undefined;

  constructor(readonly channel: string) {}

  open(recover: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.subscribed = (ok, reason) => (ok ? resolve() : reject(new Error(reason)));
      const socket = connect({ host: plan.host, port: plan.port });
      this.socket = socket;
      let head: Buffer | undefined = Buffer.alloc(0);
      const reader = new FrameReader({
        message: (payload) => this.frame(payload),
        pong: (frame) => socket.write(frame),
        close: () => socket.end(),
        error: (reason) => socket.destroy(new Error(reason)),
      });
      socket.setNoDelay(true);
      socket.setTimeout(CONNECT_TIMEOUT_MS);
      socket.once('timeout', () => socket.destroy(new Error('no answer to the upgrade')));
      socket.once('connect', () => {
        socket.write(
          `GET /pubsub HTTP/1.1\r\nHost: ${plan.host}:${plan.port}\r\n` +
            'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
            'User-Agent: rx-streamer-bench\r\n\r\n',
        );
      });
      socket.on('data', (data: Buffer) => {
        if (head === undefined) return reader.push(data);
        head = Buffer.concat([head, data]);
        const end = head.indexOf(HEAD_END);
        if (end === -1) return;
        const status = head.toString('latin1', 0, head.indexOf('\r\n'));
        if (!status.startsWith(STATUS_UPGRADED)) {
          socket.destroy(new Error(`/pubsub: ${status}`));
          return;
        }
        const rest = head.subarray(end + HEAD_END.length);
        head = undefined;
        if (recover) this.upgradedMs = wallClockMs() - this.t0;
        socket.setTimeout(0);
        const payload: Record<string, unknown> = { channel: this.channel };
        if (recover) payload.recover = { epoch: this.epoch, offset: this.last };
        socket.write(clientFrame(JSON.stringify({ action: 'subscribe', payload })));
        if (rest.length > 0) reader.push(rest);
      });
      // A dropped socket's late events are not this client's any more.
      socket.on('error', (err) => {
        if (socket !== this.socket) return;
        firstError ??= err.message;
        this.fail(err.message);
      });
      socket.on('close', () => {
        if (socket === this.socket) this.fail('closed by the server');
      });
    });
  }

  drop(): void {
    this.state = 'away';
    this.socket?.destroy();
    this.socket = undefined;
  }

  reconnect(): Promise<void> {
    this.state = 'recovering';
    this.t0 = wallClockMs();
    return this.open(true);
  }

  private fail(reason: string): void {
    if (this.state === 'away' || this.state === 'failed') return;
    if (this.state !== 'connecting' && this.state !== 'recovering') disconnects++;
    this.state = 'failed';
    this.subscribed?.(false, reason);
    this.subscribed = undefined;
  }

  private frame(payload: Buffer): void {
    const counts = afterDrop ? storm : steady;
    let frame: Frame;
    try {
      frame = JSON.parse(payload.toString('utf8')) as Frame;
    } catch {
      counts.controlErrors++;
      return;
    }
    if (frame.controlMessage) return this.control(frame, counts);
    const now = wallClockMs();
    const { offset } = frame;
    if (typeof offset !== 'number') {
      counts.noOffset++;
      return;
    }
    if (offset <= this.last) {
      counts.duplicates++;
      if (this.state === 'recovering') this.dirty = true;
    } else {
      if (offset > this.last + 1) {
        counts.lost += offset - this.last - 1;
        if (this.state === 'recovering') this.dirty = true;
      }
      this.last = offset;
    }
    if (this.state !== 'recovering' || this.ackAt === 0) return;
    const sentAt = frame.message?.sent_at ?? 0;
    if (sentAt < this.t0) {
      // Published before the reconnect: one the client missed, replayed (or in flight).
      this.replayed++;
      this.lastMissedAt = now;
      return;
    }
    // The first message published after the reconnect: everything before it is here.
    this.state = 'caughtUp';
    if (!this.dirty) this.caughtUpMs = Math.max(this.ackAt, this.lastMissedAt) - this.t0;
  }

  private control(frame: Frame, counts: Counts): void {
    if (frame.gap) {
      counts.gapNotices++;
      return;
    }
    if (frame.error || !frame.content?.startsWith('Subscribed to')) {
      counts.controlErrors++;
      firstError ??= frame.content;
      // A subscribe refused: this client did not come back (a real one would try again).
      if (this.state === 'recovering' && this.ackAt === 0) {
        this.state = 'refused';
        refused++;
      }
      return;
    }
    if (typeof frame.epoch !== 'string' || typeof frame.offset !== 'number') {
      this.subscribed?.(false, 'the acknowledgement has no position: a build without recovery?');
      this.subscribed = undefined;
      return;
    }
    if (this.state === 'recovering') {
      this.ackAt = wallClockMs();
      this.ackMs = this.ackAt - this.t0;
      if (frame.recovered !== true || frame.epoch !== this.epoch) {
        // Unrecovered: the client would reload its state and follow from the new top.
        this.state = 'unrecovered';
        this.epoch = frame.epoch;
        this.last = frame.offset;
      }
    } else {
      this.epoch = frame.epoch;
      this.last = frame.offset;
      this.state = 'live';
    }
    this.subscribed?.(true);
    this.subscribed = undefined;
  }
}

const clients = Array.from(
  { length: plan.count },
  (_, k) => new Client(`bench.${(plan.firstIndex + k) % plan.channels}`),
);

async function connectAll(): Promise<void> {
  let ok = 0;
  let failed = 0;
  for (let start = 0; start < clients.length; start += plan.connectBatch) {
    const batch = clients.slice(start, start + plan.connectBatch).map((c) => c.open(false));
    for (const r of await Promise.allSettled(batch)) {
      if (r.status === 'fulfilled') ok++;
      else {
        failed++;
        firstError ??= (r.reason as Error).message;
      }
    }
  }
  send({ type: 'connected', ok, failed, ...(firstError ? { firstError } : {}) });
}

function status() {
  let caughtUp = 0;
  let unrecovered = 0;
  let failed = 0;
  for (const c of clients) {
    if (c.state === 'caughtUp') caughtUp++;
    else if (c.state === 'unrecovered') unrecovered++;
    else if (c.state === 'failed') failed++;
  }
  return {
    resolved: caughtUp + unrecovered + failed + refused,
    caughtUp,
    unrecovered,
    failed,
    refused,
  };
}

function report(tops: Extract<ToRecoveryClients, { type: 'report' }>['tops']): RecoveryReport {
  let behindAtEnd = 0;
  let missingAtEnd = 0;
  const caughtUpMs: number[] = [];
  const upgradedMs: number[] = [];
  const ackMs: number[] = [];
  const afterOpenMs: number[] = [];
  let caughtUpDirty = 0;
  let replayed = 0;
  for (const c of clients) {
    replayed += c.replayed;
    if (c.caughtUpMs !== undefined) caughtUpMs.push(c.caughtUpMs);
    if (c.caughtUpMs !== undefined && c.upgradedMs !== undefined)
      afterOpenMs.push(c.caughtUpMs - c.upgradedMs);
    if (c.upgradedMs !== undefined) upgradedMs.push(c.upgradedMs);
    if (c.ackMs !== undefined) ackMs.push(c.ackMs);
    else if (c.state === 'caughtUp') caughtUpDirty++;
    const top = tops[`pubsub:${c.channel}`];
    if (!top || top.epoch !== c.epoch || top.offset !== c.last) {
      behindAtEnd++;
      missingAtEnd += top && top.epoch === c.epoch ? Math.max(0, top.offset - c.last) : 0;
    }
  }
  return {
    ...status(),
    steady,
    storm,
    caughtUpMs,
    upgradedMs,
    ackMs,
    afterOpenMs,
    caughtUpDirty,
    replayed,
    behindAtEnd,
    missingAtEnd,
    disconnects,
    ...(firstError ? { firstError } : {}),
  };
}

process.on('message', (message: ToRecoveryClients) => {
  if (message.type === 'drop') {
    afterDrop = true;
    let count = 0;
    for (const c of clients) {
      if (c.state === 'live') {
        c.drop();
        count++;
      }
    }
    send({ type: 'dropped', count });
  } else if (message.type === 'reconnect') {
    // All at once, as after a network blip: no batching.
    for (const c of clients) if (c.state === 'away') c.reconnect().catch(() => undefined);
  } else if (message.type === 'status') send({ type: 'status', status: status() });
  else if (message.type === 'report') send({ type: 'report', report: report(message.tops) });
  else {
    for (const c of clients) c.drop();
    process.disconnect();
  }
});
process.on('disconnect', () => process.exit(0));

await connectAll();
