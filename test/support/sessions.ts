// Protocols without sockets: a session whose every message is recorded and
// whose frames the test sends, and a context that starts a protocol module on
// a real hub, bus and metrics registry with the endpoints it serves kept by
// path, so a handler is driven frame by frame.
import { Writable } from 'node:stream';
import { Router } from 'express';
import { asyncScheduler } from 'rxjs';
import { loadConfig } from '../../src/core/config.js';
import type { Env } from '../../src/core/env.js';
import { silentLogger } from '../../src/core/logger.js';
import { MetricsRegistry } from '../../src/core/metrics.js';
import type { SessionEndpoint, SessionRequest } from '../../src/core/session.js';
import { connectionInfo } from '../../src/fanout/Connection.js';
import type { Framing } from '../../src/fanout/framing.js';
import { joined } from '../../src/fanout/framing.js';
import { Hub } from '../../src/fanout/Hub.js';
import type { HubOptions } from '../../src/fanout/Hub.js';
import { protocolConfig } from '../../src/protocols/protocol.js';
import type {
  ProtocolContext,
  ProtocolHandle,
  ProtocolModule,
} from '../../src/protocols/protocol.js';
import type { Publisher } from '../../src/core/message.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { SessionConnection } from '../../src/transports/SessionConnection.js';
import { SseTransport } from '../../src/transports/sse/SseTransport.js';
import { StreamRoutes } from '../../src/transports/sse/StreamRoutes.js';

const NL = Buffer.from('\n');

/** Each message a line: what the hub and the protocol send arrives one text each. */
const LINES: Framing = {
  name: 'test-lines',
  encoding: 'ws',
  frame: (parts) => joined(parts.flatMap((p) => [p, NL])),
};

/** A session in memory: `sent` holds every text it was sent, parsed as JSON where it is. */
export class MemorySession extends SessionConnection {
  readonly sent: unknown[];
  closedWith: { code: number; reason: string } | undefined;

  /** `stalled`: a client that reads nothing, so every write stays unsent. */
  constructor(request: Partial<SessionRequest> = {}, options: { stalled?: boolean } = {}) {
    const sent: unknown[] = [];
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (options.stalled) return;
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line === '') continue;
          try {
            sent.push(JSON.parse(line));
          } catch {
            sent.push(line);
          }
        }
        done();
      },
    });
    const full: SessionRequest = {
      path: '/test',
      query: new URLSearchParams(),
      headers: {},
      cookies: {},
      ip: '203.0.113.7',
      userAgent: 'memory',
      transport: 'memory',
      ...request,
    };
    super(
      connectionInfo({
        requestPath: full.path,
        namespace: full.path,
        clientIp: full.ip,
        userAgent: full.userAgent,
      }),
      LINES,
      out,
      full,
    );
    this.sent = sent;
  }

  sendText(text: string): void {
    this.send([Buffer.from(text)]);
  }

  /** The client sends one message. */
  deliver(frame: string | Buffer): void {
    this.received(frame);
  }

  /** The client sends one JSON frame. */
  frame(value: unknown): void {
    this.received(JSON.stringify(value));
  }

  closeWith(code: number, reason: string): void {
    this.closedWith ??= { code, reason };
    this.finished();
  }

  end(goingAway = false): void {
    this.closeWith(goingAway ? 1001 : 1000, '');
  }

  destroy(): void {
    this.closeWith(1006, 'destroyed');
  }

  /** How far next() has read. */
  private seen = 0;

  /** Resolves with the first message not yet seen by next() that matches. */
  async next(match: (m: unknown) => boolean, timeoutMs = 2_000): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.seen < this.sent.length) {
        const m = this.sent[this.seen++];
        if (match(m)) return m;
      }
      if (Date.now() > deadline)
        throw new Error(`no matching message; got ${JSON.stringify(this.sent.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

export interface ProtocolHarness {
  readonly hub: Hub;
  readonly bus: MemoryBus;
  readonly metrics: MetricsRegistry;
  readonly handle: ProtocolHandle;
  /** Opens a session on the endpoint at `path`, as a transport would. */
  open(
    path: string,
    request?: Partial<SessionRequest>,
    options?: { stalled?: boolean },
  ): MemorySession;
  /** What the endpoint at `path` answers a request before it opens. */
  accept(
    path: string,
    request?: Partial<SessionRequest>,
  ): ReturnType<NonNullable<SessionEndpoint['accept']>>;
  close(): Promise<void>;
}

/** Starts a protocol module on an in-memory server: a real hub and bus, no sockets. */
export function startProtocol<C>(
  module: ProtocolModule<C>,
  options: { env?: Env; demo?: boolean; hub?: HubOptions; publisher?: Publisher } = {},
): ProtocolHarness {
  const core = loadConfig({ NODE_ENV: 'test', NODE_NAME: 'harness', ...options.env });
  const config = protocolConfig(module, core.env);
  const metrics = new MetricsRegistry();
  const hub = new Hub({ metrics, ...options.hub });
  const bus = new MemoryBus();
  const endpoints = new Map<string, SessionEndpoint>();
  const ctx: ProtocolContext = {
    source: bus,
    history: undefined,
    publisher: options.publisher ?? bus,
    redis: undefined,
    postgres: undefined,
    demo: options.demo ?? false,
    hub,
    streams: new StreamRoutes(),
    sse: new SseTransport({ hub, headers: {} }),
    sessions: { serve: (path, endpoint) => void endpoints.set(path, endpoint) },
    router: Router(),
    metrics,
    logger: silentLogger,
    scheduler: asyncScheduler,
    config: core,
  };
  const handle = module.start(ctx, config);
  const endpointAt = (path: string) => {
    const endpoint = endpoints.get(path);
    if (!endpoint) throw new Error(`nothing is served at ${path}`);
    return endpoint;
  };
  return {
    hub,
    bus,
    metrics,
    handle,
    accept: (path, request = {}) =>
      endpointAt(path).accept?.(new MemorySession({ path, ...request }).request),
    open: (path, request = {}, sessionOptions = {}) => {
      const session = new MemorySession({ path, ...request }, sessionOptions);
      session.open(hub, endpointAt(path), silentLogger);
      return session;
    },
    close: async () => {
      await handle.close?.();
      hub.close();
      metrics.close();
    },
  };
}
