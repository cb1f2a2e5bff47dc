// Messages between the benchmark runner and the processes it forks (clients,
// feeder, floor); each child receives its settings as one JSON argument.
import type { HistogramData } from './histogram.js';

export type WorkloadName =
  'emojitrack' | 'notifications' | 'pubsub' | 'datastream' | 'recovery' | 'publish';

/**
 * How the feeder publishes the pub/sub traffic: `plain`, a bare PUBLISH (no
 * history); `script`, the build's `publish()` (the history Lua script, from the
 * feeder's own connection); `client`, pub/sub client publishes over WebSocket
 * and `api`, POST /api/publish (both through the server, which runs the script).
 */
export type PublishPath = 'plain' | 'script' | 'client' | 'api';

export type WsDialect = 'pubsub' | 'socket.io' | 'datastream';

/** Streams opened alike: `count` of them on `path`, where `{i}` stands for the stream's number. */
export interface ClientGroup {
  readonly name: string;
  readonly count: number;
  readonly path: string;
  /** Number of this group's first stream (so `{i}` runs on across client processes). */
  readonly firstIndex: number;
  /** Parse each event's `"sent_at"` for latency (otherwise only count events). */
  readonly timed: boolean;
  /** Bytes that must arrive before the stream counts as connected (after the 200 status). */
  readonly readyMarker?: string;
  /**
   * A WebSocket client instead of an SSE stream, where each message (one
   * `sent_at` each) is an event. `dialect` is the protocol it speaks: pub/sub,
   * rx-streamer's (and the floor's) JSON actions subscribing to
   * `bench.<i mod channels>`, or Socket.IO's (engine.io v4 packets) doing the
   * same; datastream, the site named in the path, where `{c}` stands for
   * `i mod channels`.
   */
  readonly ws?: { readonly channels: number; readonly dialect: WsDialect };
}

export interface ClientPlan {
  readonly host: string;
  /** The target's instances, one port each: a client connects to `ports[instanceOf(…)]`. */
  readonly ports: readonly number[];
  readonly groups: readonly ClientGroup[];
  /** Connections opened at once while connecting. */
  readonly connectBatch: number;
}

export interface ClientSnapshot {
  /** Events received per connection since it connected, by group (preambles included). */
  readonly events: Readonly<Record<string, number[]>>;
  readonly bytes: number;
  readonly latency: HistogramData;
  /** Socket errors and responses that were not 200. */
  readonly errors: number;
  /** Connections the server closed. */
  readonly disconnects: number;
}

export type ToClients =
  { readonly type: 'snapshot'; readonly resetLatency: boolean } | { readonly type: 'close' };

export type FromClients =
  | {
      readonly type: 'connected';
      readonly ok: number;
      readonly failed: number;
      readonly firstError?: string;
    }
  | { readonly type: 'snapshot'; readonly snapshot: ClientSnapshot };

/**
 * The instance client `index` connects to: the clients of each channel (client i
 * is on channel i mod `channels`) spread evenly over the instances, so that every
 * instance carries every channel, as behind a load balancer (i mod `instances`
 * would leave each channel on one instance whenever the two counts share a factor).
 * With one channel, it is i mod `instances`.
 */
export function instanceOf(index: number, channels: number, instances: number): number {
  return ((index % channels) + Math.floor(index / channels)) % instances;
}

/** The notification workload's users and rooms (see notifyTraffic.ts). */
export interface NotifyLayout {
  readonly users: number;
  readonly rooms: number;
  /** Share of the messages that go to a room; the rest go to one user's own channel. */
  readonly roomShare: number;
}

/** The pub/sub workload's channels: `bench.0…bench.<N-1>`, messages spread over them. */
export interface PubsubLayout {
  readonly channels: number;
}

/** The site streams workload's sites: `site0…site<N-1>`, messages spread over them in turn. */
export interface DatastreamLayout {
  readonly sites: number;
  /** The stream the feeder adds entries to (the server's DATASTREAM_KEY). */
  readonly key: string;
}

export interface TrafficPlan {
  readonly workload: WorkloadName;
  readonly pubsub: PubsubLayout;
  readonly datastream: DatastreamLayout;
  readonly rate: number;
  readonly seed: number;
  readonly tickMs: number;
  readonly notify: NotifyLayout;
}

/**
 * The Redis a server and its feeder use: one redis-server, or (pubsub, `--redis
 * cluster` or `sharded`) a Redis Cluster.
 */
export type RedisPlan =
  | { readonly url: string }
  | {
      /** REDIS_CLUSTER_NODES: `host:port,…`. */
      readonly seeds: string;
      /** REDIS_SHARDED_CHANNELS: the channel globs SSUBSCRIBEd and SPUBLISHed (none: classic pub/sub). */
      readonly sharded: readonly string[];
    };

export interface FeederPlan extends TrafficPlan {
  /** The build output whose demo generator makes the emojitrack traffic. */
  readonly dist: string;
  /** Where it publishes; a Redis Cluster takes only the pub/sub traffic, sent as the server sends it (publishPaths.ts). */
  readonly redis: RedisPlan;
  /** Publish the pub/sub traffic for Socket.IO servers (@socket.io/redis-emitter). */
  readonly socketIo?: boolean;
  /** Pub/sub traffic: how it is published (a bare PUBLISH unless given). */
  readonly publishPath?: PublishPath;
  /** The server, for the paths through it (`client`, `api`). */
  readonly server?: { readonly port: number; readonly apiKey: string };
  /** History settings of `script` (the server's HISTORY_SIZE, HISTORY_TTL_S). */
  readonly history?: { readonly size: number; readonly ttlS: number };
}

/** The Socket.IO peer's settings (socketioPeer.ts). */
export interface PeerPlan {
  readonly redisUrl: string;
  /** engine.io's pingInterval and pingTimeout. */
  readonly pingMs: number;
}

export interface FloorPlan extends TrafficPlan {
  readonly dist: string;
  readonly epsIntervalMs: number;
  /** The feeder's Redis, for a floor that reads what the feeder writes (the queue floor). */
  readonly redisUrl?: string;
  /** The pre-framed pub/sub floor: write each message's frame as it is made, not a turn's joined. */
  readonly perMessage?: boolean;
}

export interface FeedStats {
  /** Messages the producer sent (emoji uses, or notifications). */
  readonly sent: number;
  readonly errors: number;
  /** Publishes answered (acknowledged by Redis or the server; with history, their position known). */
  readonly done?: number;
  /** Publishing with history: each channel's epoch and top offset as the answers said. */
  readonly tops?: Readonly<Record<string, { readonly epoch: string; readonly offset: number }>>;
  /** The first error, to say why. */
  readonly firstError?: string;
}

export type FromFeeder =
  { readonly type: 'ready' } | { readonly type: 'stats'; readonly stats: FeedStats };

export type FromFloor =
  | { readonly type: 'listening'; readonly port: number }
  | {
      readonly type: 'stats';
      readonly stats: FeedStats & { readonly connections: number; readonly maxBuffered: number };
    };

export type FromPeer =
  | { readonly type: 'listening'; readonly port: number }
  | {
      readonly type: 'stats';
      readonly stats: { readonly connections: number; readonly errors: number };
    };

export type StatsRequest = { readonly type: 'stats' } | { readonly type: 'stop' };

/**
 * To the feeder: add `rate` messages a second to the traffic for `seconds`
 * (a burst), stop sending altogether (pause) so a queue can be seen empty, or
 * start the steady traffic again (resume).
 */
export type FeederControl =
  | { readonly type: 'burst'; readonly rate: number; readonly seconds: number }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' };

/** The child's settings, passed by the runner as the first argument. */
export function planFromArgv<T>(): T {
  const raw = process.argv[2];
  if (!raw) throw new Error('expected the plan as a JSON argument');
  return JSON.parse(raw) as T;
}

export function send(
  message: FromClients | FromFeeder | FromFloor | FromPeer | FromRecoveryClients,
): void {
  process.send?.(message);
}

/**
 * The recovery workload's clients (recoveryClients.ts): `count` WebSocket
 * pub/sub clients, client i on `bench.<i mod channels>`, that follow every
 * message's offset, go away all together and come back with `recover`.
 */
export interface RecoveryClientPlan {
  readonly host: string;
  readonly port: number;
  readonly count: number;
  readonly firstIndex: number;
  readonly channels: number;
  readonly connectBatch: number;
}

/** What the clients found, counted apart before the drop (steady) and after it (storm). */
export interface RecoveryCounts {
  /** Offsets skipped: messages never received. */
  readonly lost: number;
  /** Messages received at or below an offset already received. */
  readonly duplicates: number;
  /** Channel messages without an offset (not published with history, or a build without positions). */
  readonly noOffset: number;
  /** Control errors and the server's word of messages lost on their way to it. */
  readonly controlErrors: number;
  readonly gapNotices: number;
}

export interface RecoveryStatus {
  /** Clients whose storm is over: caught up, told unrecovered, failed, or refused. */
  readonly resolved: number;
  readonly caughtUp: number;
  readonly unrecovered: number;
  /** Clients that could not reconnect, and those whose subscribe with recover was refused. */
  readonly failed: number;
  readonly refused: number;
}

export interface RecoveryReport extends RecoveryStatus {
  readonly steady: RecoveryCounts;
  readonly storm: RecoveryCounts;
  /**
   * Each client that caught up with no loss or duplicate: ms from its reconnect
   * until it held every message published before it, in order.
   */
  readonly caughtUpMs: number[];
  /** Each reconnected client: ms from its reconnect to the 101 answer, and to the acknowledgement. */
  readonly upgradedMs: number[];
  /** Per client caught up: from its WebSocket open (101) to caught up, the server's own part. */
  readonly afterOpenMs: number[];
  readonly ackMs: number[];
  /** Clients that caught up with a loss or a duplicate on the way. */
  readonly caughtUpDirty: number;
  /** Messages received after the reconnect that were published before it (replayed). */
  readonly replayed: number;
  /** Clients not at their channel's final top (position and epoch) at the end; the offsets they lack. */
  readonly behindAtEnd: number;
  readonly missingAtEnd: number;
  /** Connections closed by the server (or failed) while subscribed. */
  readonly disconnects: number;
  readonly firstError?: string;
}

export type ToRecoveryClients =
  | { readonly type: 'drop' }
  | { readonly type: 'reconnect' }
  | { readonly type: 'status' }
  | {
      readonly type: 'report';
      /** Each channel's final position, from the publisher. */
      readonly tops: Readonly<Record<string, { readonly epoch: string; readonly offset: number }>>;
    }
  | { readonly type: 'close' };

export type FromRecoveryClients =
  | {
      readonly type: 'connected';
      readonly ok: number;
      readonly failed: number;
      readonly firstError?: string;
    }
  | { readonly type: 'dropped'; readonly count: number }
  | { readonly type: 'status'; readonly status: RecoveryStatus }
  | { readonly type: 'report'; readonly report: RecoveryReport };
