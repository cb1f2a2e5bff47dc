// What each workload asks of a run: the streams the clients open, the server's
// settings, which floor to compare with, and how the table describes it.
import type { BenchArgs, WsFloorKind } from './args.js';
import { loadDemo, mostPopularId } from './demo.js';
import type { PublishPath, TrafficPlan } from './ipc.js';
import type { Workload } from './measure.js';

export interface WorkloadSetup {
  readonly workload: Workload;
  readonly traffic: Omit<TrafficPlan, 'tickMs'>;
  /** Settings for the server besides those every run gets. */
  readonly serverEnv: Readonly<Record<string, string>>;
  /** The floors measured, in order (none on publish and recovery). */
  readonly floors: readonly FloorRun[];
  /** The floor reads what the feeder writes to Redis (rather than making the traffic itself). */
  readonly floorFed?: boolean;
  /** Datastream: the burst after the window, and how many clients each message reaches. */
  readonly burst?: {
    readonly extraRate: number;
    readonly seconds: number;
    readonly perMessage: number;
  };
  /** The table's first words: what the clients are and what the traffic is. */
  readonly description: string;
  /** The same clients speaking to the peer a developer would pick instead (pubsub: Socket.IO). */
  readonly peer?: Workload;
  /** Publish: how the feeder publishes, and the key of POST /api/publish. */
  readonly publisher?: { readonly path: PublishPath; readonly apiKey: string };
}

/** A floor: its child process (see children.ts), its name in the table, what its plan adds. */
export interface FloorRun {
  readonly child: 'floor' | 'notifyFloor' | 'wsFloor' | 'wsFramedFloor' | 'queueFloor';
  readonly name: string;
  readonly perMessage?: boolean;
}

const WS_FLOORS: Readonly<Record<WsFloorKind, FloorRun>> = {
  naive: { child: 'wsFloor', name: 'ws naive' },
  framed: { child: 'wsFramedFloor', name: 'ws framed' },
  'per-message': { child: 'wsFramedFloor', name: 'ws framed/msg', perMessage: true },
};

const NOTIFY_OK = '<status>ok</status>';
/** Heartbeat interval of the WebSocket servers: longer than any window, so every frame is a message. */
export const PING_MS = 600_000;
/** The site streams' queue, for the server, the feeder and the floor. */
export const DATASTREAM_KEY = 'bench:datastream';
/** REDIS_SHARDED_CHANNELS on `--redis sharded`: every pub/sub channel (pub/sub channel C is the Redis channel `pubsub:C`). */
export const SHARDED_CHANNELS: readonly string[] = ['pubsub:*'];
/** The bench's PUBLISH_API_KEY (the server listens on 127.0.0.1 only). */
export const PUBLISH_API_KEY = 'rx-streamer-bench-publish-key';

/** Where the pub/sub server runs: its instances and its Redis (`--instances`, `--redis`). */
function serverLayout(args: BenchArgs): string {
  const instances =
    args.instances === 1
      ? 'one server instance'
      : `${args.instances} server instances (CPU and RSS summed over them)`;
  const redis = {
    single: 'one Redis',
    cluster: 'a six-node Redis Cluster, classic pub/sub (SUBSCRIBE, PUBLISH)',
    sharded: `a six-node Redis Cluster, sharded pub/sub (SSUBSCRIBE, SPUBLISH on ${SHARDED_CHANNELS.join(',')})`,
  }[args.redis];
  return `${instances} on ${redis}`;
}

/** The publish workload on one path: the same subscribers, the traffic published that way. */
export function publishPathSetup(setup: WorkloadSetup, path: PublishPath): WorkloadSetup {
  return { ...setup, publisher: { path, apiKey: PUBLISH_API_KEY } };
}

export async function setUpWorkload(args: BenchArgs, dist: string): Promise<WorkloadSetup> {
  const common = {
    clientProcs: args.clientProcs,
    warmupS: args.warmupS,
    durationS: args.durationS,
  };
  const notify = { users: args.clients, rooms: args.rooms, roomShare: args.roomShare };
  const pubsub = { channels: args.channels };
  const datastream = { sites: args.sites, key: DATASTREAM_KEY };
  const traffic = {
    workload: args.workload,
    rate: args.rate,
    seed: args.seed,
    notify,
    pubsub,
    datastream,
  };
  if (args.workload === 'datastream') {
    // Client i watches site<i mod sites>; connected at its acknowledgement.
    const perMessage = args.clients / args.sites;
    return {
      workload: {
        ...common,
        groups: [
          {
            name: 'ws',
            count: args.clients,
            timed: true,
            path: '/datastream?site=site{c}',
            readyMarker: 'Subscribed to site',
            ws: { channels: args.sites, dialect: 'datastream' },
          },
        ],
      },
      traffic,
      serverEnv: { WS_PING_MS: String(PING_MS), DATASTREAM_KEY },
      floors: [{ child: 'queueFloor', name: 'floor' }],
      floorFed: true,
      ...(args.burstS > 0 && args.burstRate > args.rate
        ? { burst: { extraRate: args.burstRate - args.rate, seconds: args.burstS, perMessage } }
        : {}),
      description:
        `${args.clients} WebSocket clients on ${args.sites} site(s), ` +
        `${args.rate} msgs/s enqueued (${Math.round(args.rate * perMessage)} deliveries/s expected)` +
        (args.burstS > 0 ? `, then ${args.burstS} s at ${args.burstRate} msgs/s` : ''),
    };
  }
  if (args.workload === 'publish' || args.workload === 'recovery') {
    // Subscribers as on pubsub (recovery has clients of its own: recoveryClients.ts).
    return {
      workload: {
        ...common,
        groups: [
          {
            name: 'ws',
            count: args.clients,
            timed: true,
            path: '/pubsub',
            readyMarker: 'Subscribed to',
            ws: { ...pubsub, dialect: 'pubsub' },
          },
        ],
      },
      traffic,
      serverEnv: { WS_PING_MS: String(PING_MS), PUBLISH_API_KEY },
      floors: [],
      description:
        args.workload === 'publish'
          ? `${args.rate} publishes/s over ${args.channels} channel(s), ${args.clients} WebSocket subscribers, ` +
            `by path: ${args.paths.join(', ')}`
          : `${args.clients} WebSocket clients on ${args.channels} channel(s), ${args.rate} msgs/s published ` +
            `with history, all dropped for ${args.dropS} s and back at once with recover`,
    };
  }
  if (args.workload === 'pubsub') {
    // Client i subscribes to bench.<i mod channels>; connected at its acknowledgement.
    const clients = { name: 'ws', count: args.clients, timed: true } as const;
    return {
      workload: {
        ...common,
        groups: [
          {
            ...clients,
            path: '/pubsub',
            readyMarker: 'Subscribed to',
            ws: { ...pubsub, dialect: 'pubsub' },
          },
        ],
      },
      peer: {
        ...common,
        groups: [
          {
            ...clients,
            path: '/socket.io/?EIO=4&transport=websocket',
            readyMarker: '42["subscribed"',
            ws: { ...pubsub, dialect: 'socket.io' },
          },
        ],
      },
      traffic,
      serverEnv: { WS_PING_MS: String(PING_MS) },
      floors: args.wsFloors.map((kind) => WS_FLOORS[kind]),
      description:
        `${args.clients} WebSocket clients on ${args.channels} channel(s), ` +
        `${args.rate} msgs/s (${Math.round((args.rate * args.clients) / args.channels)} deliveries/s expected), ` +
        serverLayout(args),
    };
  }
  if (args.workload === 'notifications') {
    const perRoom = (2 * args.clients) / args.rooms;
    return {
      workload: {
        ...common,
        // User i is u<i> (notifyTraffic.ts); a stream counts as connected at its ok status.
        groups: [
          {
            name: 'users',
            count: args.clients,
            path: '/?user=u{i}',
            timed: true,
            readyMarker: NOTIFY_OK,
          },
        ],
      },
      traffic,
      // No noop in the window: every event counted is a message.
      serverEnv: { NOOP_MS: '600000' },
      floors: [{ child: 'notifyFloor', name: 'floor' }],
      description:
        `${args.clients} users (own channel + 2 of ${args.rooms} rooms, ~${perRoom.toFixed(0)} users a room), ` +
        `${args.rate} msgs/s (${Math.round(args.roomShare * 100)} % to rooms)`,
    };
  }
  const demo = await loadDemo(dist);
  const detailId = mostPopularId(demo, args.seed);
  const detailClients = Math.round(args.clients * args.detailsShare);
  return {
    workload: {
      ...common,
      groups: [
        { name: 'eps', count: args.clients - detailClients, path: '/subscribe/eps', timed: false },
        {
          name: 'details',
          count: detailClients,
          path: `/subscribe/details/${detailId}`,
          timed: true,
        },
      ],
    },
    traffic,
    serverEnv: {},
    floors: [{ child: 'floor', name: 'floor' }],
    description:
      `${args.clients} clients (${args.clients - detailClients} eps, ${detailClients} details/${detailId}), ` +
      `${args.rate} uses/s`,
  };
}
