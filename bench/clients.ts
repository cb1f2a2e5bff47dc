// Benchmark clients: many SSE streams over raw TCP sockets in one process. Events
// are counted by finding "\n\n" in the received bytes, with no per-event
// allocation; the streams of a timed group also read each event's "sent_at" for
// latency. The runner forks one or more of these and asks them for snapshots over IPC.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { LatencyHistogram } from './histogram.js';
import { instanceOf, planFromArgv, send } from './ipc.js';
import type { ClientGroup, ClientPlan, ToClients, WsDialect } from './ipc.js';
import { wallClockMs } from './traffic.js';
import { clientFrame } from './wsFrames.js';

const NL = 0x0a;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const BOUNDARY = Buffer.from('\n\n');
const SENT_AT = Buffer.from('"sent_at":');
const STATUS_OK = Buffer.from('HTTP/1.1 200 ');
const STATUS_UPGRADED = Buffer.from('HTTP/1.1 101 ');

const CONNECT_TIMEOUT_MS = 15_000;

/**
 * A WebSocket client's handshake after the upgrade: each frame to send, after
 * the bytes it waits for. Socket.IO first connects to the main namespace (`40`)
 * and may only emit once the server has answered that (`40{"sid":…}`).
 */
function handshake(
  dialect: WsDialect,
  channel: string,
): (readonly [after: string, frame: string])[] {
  if (dialect === 'socket.io')
    return [
      ['', '40'],
      ['40{', `42${JSON.stringify(['subscribe', channel])}`],
    ];
  // A site stream's site is in its path: nothing to send.
  if (dialect === 'datastream') return [];
  return [['', JSON.stringify({ action: 'subscribe', payload: { channel } })]];
}

const plan = planFromArgv<ClientPlan>();
const latency = new LatencyHistogram();
const byGroup = new Map<string, Connection[]>(plan.groups.map((g) => [g.name, []]));
let bytes = 0;
let errors = 0;
let disconnects = 0;
let closing = false;
let firstError: string | undefined;

/** One stream's reading state; survives events split across TCP reads. */
class Connection {
  events = 0;
  /** The previous byte was a line feed that has not yet ended an event. */
  private lastNl = false;
  /** How much of `"sent_at":` the latest bytes matched. */
  private match = 0;
  private inNumber = false;
  private whole = 0;
  private fraction = 0;
  /** 0 before the decimal point, then the weight of the next fractional digit times 10. */
  private scale = 0;

  /** Count an event per `sent_at` (WebSocket messages), not per blank line (SSE). */
  constructor(
    readonly socket: Socket,
    private readonly bySentAt = false,
  ) {}

  /** Untimed streams: count boundaries with the native search. */
  readCounts(buf: Buffer): void {
    let pos = 0;
    let n = 0;
    if (this.lastNl && buf[0] === NL) {
      n++;
      pos = 1;
    }
    for (;;) {
      const i = buf.indexOf(BOUNDARY, pos);
      if (i === -1) break;
      n++;
      pos = i + 2;
    }
    this.lastNl = pos !== buf.length && buf[buf.length - 1] === NL;
    this.events += n;
  }

  /** Timed streams: one pass counting boundaries and parsing each sent_at. */
  readTimed(buf: Buffer): void {
    const now = wallClockMs();
    const len = buf.length;
    for (let i = 0; i < len; i++) {
      const b = buf[i] as number;
      if (this.inNumber) {
        if (b >= ZERO && b <= NINE) {
          if (this.scale === 0) this.whole = this.whole * 10 + (b - ZERO);
          else {
            this.scale /= 10;
            this.fraction += (b - ZERO) * this.scale;
          }
          continue;
        }
        if (b === DOT && this.scale === 0) {
          this.scale = 1;
          continue;
        }
        this.inNumber = false;
        latency.record(now - this.whole - this.fraction);
      }
      if (b === NL) {
        if (this.lastNl) {
          this.events++;
          this.lastNl = false;
        } else this.lastNl = true;
        continue;
      }
      this.lastNl = false;
      if (b === SENT_AT[this.match]) {
        if (++this.match === SENT_AT.length) {
          if (this.bySentAt) this.events++;
          this.match = 0;
          this.inNumber = true;
          this.whole = 0;
          this.fraction = 0;
          this.scale = 0;
        }
      } else this.match = b === SENT_AT[0] ? 1 : 0;
    }
  }
}

function open(group: ClientGroup, index: number): Promise<void> {
  const path = group.path
    .replace('{i}', String(index))
    .replace('{c}', String(index % (group.ws?.channels ?? 1)));
  const marker = group.readyMarker;
  const port = plan.ports[instanceOf(index, group.ws?.channels ?? 1, plan.ports.length)] as number;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: plan.host, port });
    const c = new Connection(socket, group.ws !== undefined);
    const expected = group.ws ? STATUS_UPGRADED : STATUS_OK;
    const steps = group.ws ? handshake(group.ws.dialect, `bench.${index % group.ws.channels}`) : [];
    let verified = false;
    let ready = false;
    /** What arrived before the ready marker, kept only while looking for it. */
    let early = '';
    socket.setNoDelay(true);
    socket.setTimeout(CONNECT_TIMEOUT_MS);
    socket.once('timeout', () => socket.destroy(new Error(`no response to ${path}`)));
    socket.once('connect', () => {
      const accept = group.ws
        ? 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n`
        : 'Accept: text/event-stream\r\n';
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${plan.host}:${port}\r\n` +
          `${accept}User-Agent: rx-streamer-bench\r\n\r\n`,
      );
    });
    socket.on('data', (buf: Buffer) => {
      bytes += buf.length;
      if (!verified) {
        const n = Math.min(buf.length, expected.length);
        if (buf.compare(expected, 0, n, 0, n) !== 0) {
          socket.destroy(new Error(`${path}: ${buf.toString('latin1', 0, buf.indexOf('\r\n'))}`));
          return;
        }
        verified = true;
      }
      if (!ready) {
        early += buf.toString('latin1');
        while (steps[0] && early.includes(steps[0][0]))
          socket.write(clientFrame((steps.shift() as readonly [string, string])[1]));
        if (steps.length === 0 && (marker === undefined || early.includes(marker))) {
          ready = true;
          early = '';
          socket.setTimeout(0);
          byGroup.get(group.name)?.push(c);
          resolve();
        }
      }
      if (group.timed) c.readTimed(buf);
      else c.readCounts(buf);
    });
    socket.on('error', (err) => {
      errors++;
      firstError ??= err.message;
      if (!ready) reject(err);
    });
    socket.on('close', () => {
      if (!ready) reject(new Error(`${path}: closed before it was ready`));
      else if (!closing) disconnects++;
    });
  });
}

/** The streams in connecting order: the groups interleaved evenly, as users would arrive. */
function openings(): [ClientGroup, number][] {
  const all: [ClientGroup, number, number][] = [];
  for (const group of plan.groups) {
    for (let k = 0; k < group.count; k++)
      all.push([group, group.firstIndex + k, (k + 0.5) / group.count]);
  }
  return all.sort((a, b) => a[2] - b[2]).map(([group, index]) => [group, index]);
}

async function connectAll(): Promise<void> {
  const all = openings();
  let ok = 0;
  let failed = 0;
  for (let start = 0; start < all.length; start += plan.connectBatch) {
    const batch = all.slice(start, start + plan.connectBatch).map(([g, i]) => open(g, i));
    for (const r of await Promise.allSettled(batch)) {
      if (r.status === 'fulfilled') ok++;
      else failed++;
    }
  }
  send({ type: 'connected', ok, failed, ...(firstError ? { firstError } : {}) });
}

process.on('message', (message: ToClients) => {
  if (message.type === 'snapshot') {
    send({
      type: 'snapshot',
      snapshot: {
        events: Object.fromEntries(
          [...byGroup].map(([name, cs]) => [name, cs.map((c) => c.events)]),
        ),
        bytes,
        latency: latency.toData(),
        errors,
        disconnects,
      },
    });
    if (message.resetLatency) latency.reset();
  } else {
    closing = true;
    for (const cs of byGroup.values()) for (const c of cs) c.socket.destroy();
    process.disconnect();
  }
});
process.on('disconnect', () => {
  closing = true;
  process.exit(0);
});

await connectAll();
