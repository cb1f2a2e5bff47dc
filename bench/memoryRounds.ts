// One round of the memory script on a fresh redis-server and server: idle (no
// clients, RSS read at --idle-at seconds after the start) or burst (two SSE
// clients that stop reading after the headers, then the publisher's burst, RSS
// sampled every 20 ms from a second before it until --tail seconds after the
// server has caught up with it).
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { forkBench, nextMessage, startServer, stopChild } from './children.js';
import type { ServerProcess } from './children.js';
import type { MemoryArgs } from './memoryArgs.js';
import type { BurstSent, FromPublisher, PublisherPlan, ToPublisher } from './memoryPublisher.js';
import {
  between,
  GC_LINE,
  gcEvent,
  MB,
  median,
  readRss,
  resetPeak,
  sampleRss,
  sumGc,
  watchLines,
} from './memorySampler.js';
import type { GcSums, Sample } from './memorySampler.js';
import { liftPubsubLimit, waitDrained, waitSubscribed } from './memoryRedis.js';
import { treeCpuSeconds } from './procStats.js';
import { startRedis } from './redisServer.js';

/** The emoji id the tweets are for: 😂, the emojitracker's busiest. */
const DETAIL_ID = '1F602';
/** The emojitrack protocol's channels (src/protocols/emojitrack/demoFeed.ts), as older builds name them too. */
const SCORE_CHANNEL = 'stream.score_updates';
const TWEET_CHANNEL = `stream.tweet_updates.${DETAIL_ID}`;
const SLOW_CLIENT_LOG = /slow client/i;
const BASELINE_MS = 1000;

export interface Build {
  readonly label: string;
  readonly dist: string;
  readonly revision: string;
}

/** [milliseconds since the start, RSS MB], rounded: the JSON's timeline. */
type Point = [number, number];
const points = (samples: readonly Sample[]): Point[] =>
  samples.map((s) => [Math.round(s.t), Math.round((s.rss / MB) * 10) / 10]);

export interface IdleRound {
  readonly rssMb: number;
  readonly minMb: number;
  readonly maxMb: number;
  /** The server's own view just after the reading (heap_used…), when it has one. */
  readonly memory: unknown;
  /** CPU the idle server used over --idle-cpu seconds after the mark, % of a core. */
  readonly cpuPercent: number;
  readonly timeline: Point[];
}

export interface BurstRound {
  /** Median RSS over the second before the first publish. */
  readonly baselineMb: number;
  readonly peakMb: number;
  readonly growthMb: number;
  /** The kernel's high-water mark over the burst and tail (undefined where it cannot be reset). */
  readonly hwmGrowthMb: number | undefined;
  /** First publish to the last pipeline's answer. */
  readonly publishS: number;
  /** First publish until Redis has nothing left to write to the server. */
  readonly drainS: number;
  readonly sent: BurstSent;
  readonly msgsIn: number | undefined;
  readonly redisReconnects: number | undefined;
  readonly slowDropped: number | undefined;
  /** The server's slow-client lines, each with its time after the first publish. */
  readonly drops: { readonly afterS: number; readonly line: string }[];
  readonly gc: GcSums | undefined;
  readonly timeline: Point[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const mb = (bytes: number) => bytes / MB;

async function status(port: number): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/admin/status.json`);
    return res.ok ? ((await res.json()) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function counterOf(doc: Record<string, unknown> | undefined, name: string): number | undefined {
  const value = (doc?.metrics as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'number' ? value : undefined;
}

async function stopServer(server: ServerProcess): Promise<void> {
  await stopChild(server.proc, undefined, 15_000);
  if (server.proc.exitCode !== 0) process.stderr.write(`server output:\n${server.tail()}\n`);
}

export async function idleRound(build: Build, args: MemoryArgs): Promise<IdleRound> {
  const redis = await startRedis();
  try {
    const origin = performance.now();
    const server = await startServer({
      dist: build.dist,
      redis: { url: redis.url },
      workers: 1,
      nodeArgs: args.nodeArgs,
      countPattern: SLOW_CLIENT_LOG,
      env: args.protocols === undefined ? args.env : { ...args.env, PROTOCOLS: args.protocols },
    });
    try {
      const sampler = sampleRss(server.pid, origin, 250);
      const atMs = args.idleAtS * 1000;
      await sleep(origin + atMs - performance.now());
      sampler.stop();
      const reading = readRss(server.pid);
      if (!reading) throw new Error(`the server (process ${server.pid}) is gone`);
      const samples = [...sampler.samples, { t: performance.now() - origin, rss: reading.rss }];
      const window = between(samples, atMs - 5000, Infinity).map((s) => s.rss);
      const doc = await status(server.port);
      // What idling costs: timers, polls, GC with nothing to do, after the mark.
      const cpuFrom = treeCpuSeconds(server.pid);
      const cpuStarted = performance.now();
      await sleep(args.idleCpuS * 1000);
      const cpuPercent =
        ((treeCpuSeconds(server.pid) - cpuFrom) / ((performance.now() - cpuStarted) / 1000)) * 100;
      return {
        rssMb: mb(reading.rss),
        minMb: mb(Math.min(...window)),
        maxMb: mb(Math.max(...window)),
        memory: doc?.memory,
        cpuPercent,
        timeline: points(samples),
      };
    } finally {
      await stopServer(server);
    }
  } finally {
    await redis.stop();
  }
}

/** An SSE request on a raw socket that reads the response's first chunk, then never again. */
function openPaused(port: number, path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setTimeout(10_000);
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`GET ${path}: no answer within 10 s`));
    });
    socket.once('error', reject);
    socket.once('connect', () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`,
      ),
    );
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.setTimeout(0);
      socket.off('error', reject);
      // The server drops it as a slow client sooner or later.
      socket.on('error', () => undefined);
      const head = chunk.toString('latin1');
      if (!head.startsWith('HTTP/1.1 200')) {
        socket.destroy();
        reject(new Error(`GET ${path}: ${head.slice(0, head.indexOf('\r\n'))}`));
      } else resolve(socket);
    });
  });
}

export async function burstRound(build: Build, args: MemoryArgs): Promise<BurstRound> {
  const { burst } = args;
  const redis = await startRedis();
  const plan: PublisherPlan = {
    ...burst,
    redisUrl: redis.url,
    scoreChannel: SCORE_CHANNEL,
    tweetChannel: TWEET_CHANNEL,
    detailId: DETAIL_ID,
    seed: 24301,
    dist: build.dist,
  };
  const publisher = forkBench('memoryPublisher', plan);
  const watch = new Redis(redis.url, { connectionName: 'rx-streamer-bench:memory-watch' });
  const clients: Socket[] = [];
  try {
    await liftPubsubLimit(watch);
    await nextMessage<FromPublisher, 'ready'>(publisher, 'ready');
    const origin = performance.now();
    const server = await startServer({
      dist: build.dist,
      redis: { url: redis.url },
      workers: 1,
      nodeArgs: [...args.nodeArgs, ...(args.gcTrace ? ['--trace-gc', '--trace-gc-nvp'] : [])],
      countPattern: SLOW_CLIENT_LOG,
      env: args.env,
    });
    try {
      const { stdout, stderr } = server.proc;
      const gc = args.gcTrace && stdout ? watchLines(stdout, origin, GC_LINE) : [];
      // Filled as the lines arrive: read once the round is over.
      const dropLines = [stdout, stderr].map((stream) =>
        stream ? watchLines(stream, origin, SLOW_CLIENT_LOG) : [],
      );
      const settling = sampleRss(server.pid, origin, 250);
      await sleep(origin + burst.settleS * 1000 - performance.now());
      settling.stop();
      for (const path of [`/subscribe/${burst.scorePath}`, `/subscribe/details/${DETAIL_ID}`])
        clients.push(await openPaused(server.port, path));
      await waitSubscribed(watch, SCORE_CHANNEL);
      const sampler = sampleRss(server.pid, origin, 20);
      await sleep(BASELINE_MS);
      const peakReset = resetPeak(server.pid);
      const done = nextMessage<FromPublisher, 'done'>(publisher, 'done', 600_000);
      const goAt = performance.now() - origin;
      publisher.send({ type: 'go' } satisfies ToPublisher);
      const { sent } = await done;
      const doneAt = performance.now() - origin;
      await waitDrained(watch);
      const drainedAt = performance.now() - origin;
      process.stderr.write(
        `  published ${sent.commands} in ${((doneAt - goAt) / 1000).toFixed(1)} s, ` +
          `the server caught up ${((drainedAt - doneAt) / 1000).toFixed(1)} s later; tail ${burst.tailS} s\n`,
      );
      await sleep(burst.tailS * 1000);
      sampler.stop();
      const hwm = readRss(server.pid)?.hwm;
      const endAt = performance.now() - origin;
      const doc = await status(server.port);

      const baseline = median(between(sampler.samples, goAt - BASELINE_MS, goAt).map((s) => s.rss));
      const peak = Math.max(...between(sampler.samples, goAt, endAt).map((s) => s.rss));
      return {
        baselineMb: mb(baseline),
        peakMb: mb(peak),
        growthMb: mb(peak - baseline),
        hwmGrowthMb: peakReset && hwm !== undefined ? mb(hwm - baseline) : undefined,
        publishS: (doneAt - goAt) / 1000,
        drainS: (drainedAt - goAt) / 1000,
        sent,
        msgsIn: typeof doc?.msgs_in === 'number' ? doc.msgs_in : undefined,
        redisReconnects: counterOf(doc, 'redis.reconnects'),
        slowDropped:
          typeof doc?.slow_clients_dropped === 'number' ? doc.slow_clients_dropped : undefined,
        drops: dropLines
          .flat()
          .sort((a, b) => a.t - b.t)
          .map((d) => ({ afterS: (d.t - goAt) / 1000, line: d.text })),
        gc: args.gcTrace ? sumGc(gc.map(gcEvent), goAt, endAt) : undefined,
        timeline: points([...settling.samples, ...sampler.samples]),
      };
    } finally {
      for (const socket of clients) socket.destroy();
      await stopServer(server);
    }
  } finally {
    watch.disconnect();
    await stopChild(publisher, { type: 'stop' } satisfies ToPublisher);
    await redis.stop();
  }
}
