// Benchmark clients: many SSE streams over raw TCP sockets in one process. Events
// are counted by finding "\n\n" in the received bytes, with no per-event
// allocation; detail clients also read each tweet's "sent_at" for latency.
// The runner forks one or more of these and asks them for snapshots over IPC.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { LatencyHistogram } from './histogram.js';
import { planFromArgv, send } from './ipc.js';
import type { ClientPlan, ToClients } from './ipc.js';
import { wallClockMs } from './traffic.js';

const NL = 0x0a;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const BOUNDARY = Buffer.from('\n\n');
const SENT_AT = Buffer.from('"sent_at":');
const STATUS_OK = Buffer.from('HTTP/1.1 200 ');
const CONNECT_TIMEOUT_MS = 15_000;

const plan = planFromArgv<ClientPlan>();
const latency = new LatencyHistogram();
const eps: Connection[] = [];
const details: Connection[] = [];
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

  constructor(readonly socket: Socket) {}

  /** Eps streams: count boundaries with the native search. */
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

  /** Detail streams: one pass counting boundaries and parsing each sent_at. */
  readDetails(buf: Buffer): void {
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

function open(path: string, detail: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: plan.host, port: plan.port });
    const c = new Connection(socket);
    let verified = false;
    socket.setNoDelay(true);
    socket.setTimeout(CONNECT_TIMEOUT_MS);
    socket.once('timeout', () => socket.destroy(new Error(`no response to ${path}`)));
    socket.once('connect', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${plan.host}:${plan.port}\r\n` +
          'Accept: text/event-stream\r\nUser-Agent: rx-streamer-bench\r\n\r\n',
      );
    });
    socket.on('data', (buf: Buffer) => {
      bytes += buf.length;
      if (!verified) {
        const n = Math.min(buf.length, STATUS_OK.length);
        if (buf.compare(STATUS_OK, 0, n, 0, n) !== 0) {
          socket.destroy(new Error(`${path}: ${buf.toString('latin1', 0, buf.indexOf('\r\n'))}`));
          return;
        }
        verified = true;
        socket.setTimeout(0);
        (detail ? details : eps).push(c);
        resolve();
      }
      if (detail) c.readDetails(buf);
      else c.readCounts(buf);
    });
    socket.on('error', (err) => {
      errors++;
      firstError ??= err.message;
      if (!verified) reject(err);
    });
    socket.on('close', () => {
      if (verified && !closing) disconnects++;
    });
  });
}

async function connectAll(): Promise<void> {
  const total = plan.epsClients + plan.detailClients;
  let ok = 0;
  let failed = 0;
  // Detail streams spread evenly among the eps streams.
  const isDetail = (i: number) =>
    Math.floor(((i + 1) * plan.detailClients) / total) >
    Math.floor((i * plan.detailClients) / total);
  for (let start = 0; start < total; start += plan.connectBatch) {
    const batch: Promise<void>[] = [];
    for (let i = start; i < Math.min(total, start + plan.connectBatch); i++) {
      const detail = isDetail(i);
      batch.push(open(detail ? plan.detailPath : '/subscribe/eps', detail));
    }
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
        epsEvents: eps.map((c) => c.events),
        detailEvents: details.map((c) => c.events),
        bytes,
        latency: latency.toData(),
        errors,
        disconnects,
      },
    });
    if (message.resetLatency) latency.reset();
  } else {
    closing = true;
    for (const c of [...eps, ...details]) c.socket.destroy();
    process.disconnect();
  }
});
process.on('disconnect', () => {
  closing = true;
  process.exit(0);
});

await connectAll();
