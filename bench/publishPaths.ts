// The ways the feeder publishes pub/sub traffic (see PublishPath in ipc.ts): a
// bare PUBLISH, the build's publish() with history, pub/sub client publishes
// over WebSocket, or POST /api/publish. Each counts what was answered and,
// with history, keeps every channel's top position as the answers tell it.
// On a Redis Cluster, the bare path publishes as the server does: SPUBLISH for
// the sharded channels, PUBLISH for the rest.
import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { WebSocket } from 'ws';
import type * as Index from '../src/index.js';
import type * as Sharded from '../src/sources/shardedPublisher.js';
import type { FeederPlan, FeedStats, PublishPath } from './ipc.js';
import type { PubsubMessage } from './wsTraffic.js';

/** Client publishes are spread over this many connections: 1000 msgs/s is 50 a second each, under PUBSUB_PUBLISH_RATE. */
export const CLIENT_PUBLISHERS = 20;
/** POST /api/publish requests unanswered at most (a second of traffic); past it a message is counted as an error, not queued. */
const API_IN_FLIGHT = 1000;

export interface Publisher {
  readonly path: PublishPath;
  publish(batch: readonly PubsubMessage[]): void;
  stats(): Omit<FeedStats, 'sent'>;
  close(): void;
}

type Position = { readonly epoch: string; readonly offset: number };

/** What every path counts alike. */
class Tally {
  done = 0;
  errors = 0;
  firstError: string | undefined;
  readonly tops: Record<string, Position> = {};

  fail(err: unknown): void {
    this.errors++;
    this.firstError ??= err instanceof Error ? err.message : String(err);
  }

  answered(channel: string, position?: Position): void {
    this.done++;
    if (!position) return;
    const top = this.tops[channel];
    if (!top || top.epoch !== position.epoch || top.offset < position.offset)
      this.tops[channel] = position;
  }

  stats(): Omit<FeedStats, 'sent'> {
    return {
      done: this.done,
      errors: this.errors,
      tops: { ...this.tops },
      ...(this.firstError ? { firstError: this.firstError } : {}),
    };
  }
}

const redisChannel = (channel: string) => `pubsub:${channel}`;

/** A module of the build, checked for the function used: an older `--dist` may lack it. */
async function fromBuild<T>(
  dist: string,
  file: string,
  name: keyof T & string,
  since: string,
): Promise<T> {
  const path = join(dist, file);
  const module = (existsSync(path) ? await import(pathToFileURL(path).href) : {}) as T;
  if (typeof module[name] !== 'function')
    throw new Error(`${dist} has no ${name}() in ${file}: a build from before ${since}`);
  return module;
}

export async function openPublisher(plan: FeederPlan, redis: Redis | Cluster): Promise<Publisher> {
  const path = plan.publishPath ?? 'plain';
  const tally = new Tally();
  const base = { path, stats: () => tally.stats() };

  if (path === 'plain' && 'seeds' in plan.redis) {
    // The server's own publisher and test of REDIS_SHARDED_CHANNELS, from the build.
    const { shardedPublisher } = await fromBuild<typeof Sharded>(
      plan.dist,
      'sources/shardedPublisher.js',
      'shardedPublisher',
      'sharded channels',
    );
    const { shardedChannels } = await fromBuild<typeof Index>(
      plan.dist,
      'index.js',
      'shardedChannels',
      'sharded channels',
    );
    const publisher = shardedPublisher(redis, shardedChannels(plan.redis.sharded));
    return {
      ...base,
      publish(batch) {
        for (const m of batch) {
          const channel = redisChannel(m.channel);
          Promise.resolve(publisher.publish(channel, m.payload)).then(
            () => tally.answered(channel),
            (err: unknown) => tally.fail(err),
          );
        }
      },
      close: () => undefined,
    };
  }

  if (path === 'plain') {
    return {
      ...base,
      publish(batch) {
        const pipeline = redis.pipeline();
        for (const m of batch) pipeline.publish(redisChannel(m.channel), m.payload);
        pipeline.exec().then(
          (results) => {
            for (const [err] of results ?? []) {
              if (err) tally.fail(err);
              else tally.done++;
            }
          },
          (err: unknown) => tally.fail(err),
        );
      },
      close: () => undefined,
    };
  }

  if (path === 'script') {
    const index = await fromBuild<typeof Index>(
      plan.dist,
      'index.js',
      'publish',
      'channel history',
    );
    const options = plan.history ?? { size: 100, ttlS: 300 };
    return {
      ...base,
      // One EVALSHA each, sent at once on the one connection: Redis runs them in order.
      publish(batch) {
        for (const m of batch) {
          const channel = redisChannel(m.channel);
          index.publish(redis, channel, m.payload, options).then(
            (position) => tally.answered(channel, position),
            (err: unknown) => tally.fail(err),
          );
        }
      },
      close: () => undefined,
    };
  }

  const server = plan.server;
  if (!server) throw new Error(`the ${path} path needs the server's port`);

  if (path === 'client') {
    const sockets = await Promise.all(
      Array.from(
        { length: CLIENT_PUBLISHERS },
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(`ws://127.0.0.1:${server.port}/pubsub`);
            ws.once('open', () => resolve(ws));
            ws.once('error', reject);
          }),
      ),
    );
    for (const ws of sockets) {
      ws.on('error', (err) => tally.fail(err));
      // A publish is not acknowledged; a control error says one was refused.
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        if (text.includes('"error":true')) tally.fail(text.slice(0, 200));
      });
    }
    let next = 0;
    return {
      ...base,
      publish(batch) {
        for (const m of batch) {
          const ws = sockets[next++ % sockets.length] as WebSocket;
          ws.send(
            `{"action":"publish","payload":{"channel":${JSON.stringify(m.channel)},"message":${m.payload}}}`,
          );
          tally.done++;
        }
      },
      close: () => {
        for (const ws of sockets) ws.terminate();
      },
    };
  }

  // POST /api/publish over kept-alive connections.
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  let inFlight = 0;
  const post = (channel: string, payload: string) => {
    const body = `{"channel":${JSON.stringify(channel)},"data":${payload}}`;
    inFlight++;
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port: server.port,
        method: 'POST',
        path: '/api/publish',
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          Authorization: `Bearer ${server.apiKey}`,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          inFlight--;
          if (res.statusCode !== 200) return tally.fail(`${res.statusCode}: ${text.slice(0, 200)}`);
          try {
            const { epoch, offset } = JSON.parse(text) as Position;
            tally.answered(channel, { epoch, offset });
          } catch (err) {
            tally.fail(err);
          }
        });
      },
    );
    req.on('error', (err) => {
      inFlight--;
      tally.fail(err);
    });
    req.end(body);
  };
  return {
    ...base,
    publish(batch) {
      for (const m of batch) {
        if (inFlight >= API_IN_FLIGHT) tally.fail(`${API_IN_FLIGHT} requests unanswered`);
        else post(redisChannel(m.channel), m.payload);
      }
    },
    close: () => agent.destroy(),
  };
}
