// The benchmark's command line: `npm run bench -- --clients 1000 --rate 400 …`.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { PublishPath, WorkloadName } from './ipc.js';

const WORKLOADS: readonly WorkloadName[] = [
  'emojitrack',
  'notifications',
  'pubsub',
  'datastream',
  'recovery',
  'publish',
];
const PUBLISH_PATHS: readonly PublishPath[] = ['plain', 'script', 'client', 'api'];
/**
 * The server's Redis: one redis-server; a six-node Redis Cluster with classic
 * pub/sub (SUBSCRIBE, PUBLISH); or the same with the pub/sub channels sharded
 * (REDIS_SHARDED_CHANNELS: SSUBSCRIBE, SPUBLISH).
 */
export type RedisMode = 'single' | 'cluster' | 'sharded';
const REDIS_MODES: readonly RedisMode[] = ['single', 'cluster', 'sharded'];
/**
 * The pub/sub floors: `naive`, `ws.send` to each client (framed per client);
 * `framed`, each message framed once and a turn's frames joined, one write per
 * client (as rx writes); `per-message`, each message framed once and written
 * to every client as it is made.
 */
export type WsFloorKind = 'naive' | 'framed' | 'per-message';
const WS_FLOORS: readonly WsFloorKind[] = ['naive', 'framed', 'per-message'];
/** Messages per second when --rate is not given. */
const DEFAULT_RATE: Readonly<Record<WorkloadName, number>> = {
  emojitrack: 400,
  notifications: 200,
  pubsub: 20,
  datastream: 1000,
  recovery: 50,
  publish: 1000,
};
/** Clients when --clients is not given: the publish path needs only a few subscribers. */
const DEFAULT_CLIENTS: Readonly<Partial<Record<WorkloadName, number>>> = { publish: 10 };

export interface BenchArgs {
  readonly workload: WorkloadName;
  /** SSE clients: streams on emojitrack, users on notifications. */
  readonly clients: number;
  /** Emoji uses per second (each a score update and a tweet), or notifications per second. */
  readonly rate: number;
  /** Pub/sub: channels the clients are spread over (1: every client on one channel). */
  readonly channels: number;
  /** Datastream: sites the WebSocket clients are spread over. */
  readonly sites: number;
  /** Datastream: messages per second during the burst after the window (steady traffic included). */
  readonly burstRate: number;
  /** Datastream: how long the burst lasts (0: none). */
  readonly burstS: number;
  /** Recovery: seconds the clients stay away while publishing goes on. */
  readonly dropS: number;
  /** Publish: the paths measured one after the other, each on a server and Redis of its own. */
  readonly paths: readonly PublishPath[];
  /** Notifications: shared rooms, two per user. */
  readonly rooms: number;
  /** Notifications: share of the messages sent to a room (the rest to one user). */
  readonly roomShare: number;
  /** Share of the clients on /subscribe/details/<popular id>; the rest on /subscribe/eps. */
  readonly detailsShare: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly workers: number;
  /** Pubsub: the server's Redis. */
  readonly redis: RedisMode;
  /** Pubsub: server processes on the same Redis, each with its own port and NODE_NAME. */
  readonly instances: number;
  readonly clientProcs: number;
  readonly seed: number;
  /** The build output to run; the repository's dist/ unless given. */
  readonly dist: string | undefined;
  /** Rebuild dist/ when it is older than src/ (not done for another --dist). */
  readonly build: boolean;
  readonly floor: boolean;
  /** Pubsub: the floors measured, in this order. */
  readonly wsFloors: readonly WsFloorKind[];
  /** Pubsub: also measure the Socket.IO peer. */
  readonly peer: boolean;
  /** Pubsub: measure the peer a second time with node's default options. */
  readonly peerDefaultFlags: boolean;
  readonly cpuProf: boolean;
  /** Node options for the server, the floors and the peer: those of `npm start` unless given. */
  readonly nodeArgs: readonly string[];
  /** Settings added to the server's environment (--env NAME=VALUE), e.g. HUB_WRITES_PER_TURN. */
  readonly env: Readonly<Record<string, string>>;
}

export const USAGE = `usage: npm run bench -- [options]
  --workload W       emojitrack (default), notifications, pubsub, datastream, recovery or publish
  --clients N        SSE clients; on notifications, users (default 1000); on publish, subscribers (default 10)
  --rate N           emojitrack: emoji uses per second, each a score update and a tweet (default 400);
                     notifications: messages per second (default 200); pubsub: messages per second (default 20);
                     datastream: messages enqueued per second (default 1000); recovery: messages
                     published with history per second (default 50); publish: publishes per second (default 1000)
  --details-share F  emojitrack: share of clients on /subscribe/details/<most popular id> (default 0.2)
  --channels N       pubsub: channels the WebSocket clients are spread over (default 1)
  --sites N          datastream: sites the WebSocket clients are spread over (default 20)
  --burst-rate N     datastream: messages per second during the burst after the window (default 5000)
  --burst S          datastream: seconds the burst lasts, 0 for none (default 10)
  --drop S           recovery: seconds every client stays away before all reconnect at once (default 2)
  --paths LIST       publish: paths to compare, of plain, script, client, api (default all four)
  --rooms N          notifications: shared rooms, two per user (default 50)
  --room-share F     notifications: share of messages sent to a room, the rest to one user (default 0.8)
  --duration S       measured window in seconds (default 20)
  --warmup S         seconds between the last client connecting and the window (default 5)
  --workers N        WORKERS for the server (default 1)
  --redis MODE       pubsub: the server's Redis: single (default), cluster (six nodes, classic
                     SUBSCRIBE/PUBLISH) or sharded (the same, pub/sub channels SSUBSCRIBEd/SPUBLISHed)
  --instances N      pubsub: server processes on that Redis, the clients spread over them (default 1)
  --client-procs N   processes the clients are spread over (default 1)
  --seed N           seed of the traffic generator (default 24301)
  --dist DIR         build output to run, e.g. another checkout's dist/ (run as it is)
  --no-build         run dist/ as it is, even when src/ is newer
  --no-floor         skip the floor run(s)
  --ws-floors LIST   pubsub: floors to run, of naive (ws.send), framed (framed once, a turn's
                     frames joined per write, as rx) and per-message (framed once, written as
                     made) (default naive,framed)
  --no-peer          pubsub: skip the Socket.IO run
  --peer-default-flags  pubsub: also run the Socket.IO peer with node's default options
  --cpu-prof         run the server, the floors and the peer under node --cpu-prof (bench/results/profiles)
  --node-args "…"    node options for the server, the floors and the peer (default: those of
                     npm start; "" for none)
  --env NAME=VALUE   a setting for the server, e.g. HUB_WRITES_PER_TURN=1024 (repeatable)
  --help`;

/** --env NAME=VALUE pairs as an environment. */
export function envPairs(pairs: readonly string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
    if (!match) throw new Error(`--env ${pair} is not valid: expected NAME=VALUE`);
    env[match[1] as string] = match[2] as string;
  }
  return env;
}

/** The node options `npm start` runs the server with, so the benchmark runs the same. */
export function startNodeArgs(packageJson: string): string[] {
  const pkg = JSON.parse(readFileSync(packageJson, 'utf8')) as { scripts?: { start?: string } };
  const words = (pkg.scripts?.start ?? '').split(/\s+/);
  const node = words.indexOf('node');
  if (node === -1) return [];
  const args: string[] = [];
  for (const word of words.slice(node + 1)) {
    if (!word.startsWith('-')) break;
    args.push(word);
  }
  return args;
}

function number(
  values: Record<string, string | boolean | string[] | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
  integer = true,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  )
    throw new Error(
      `--${name} ${String(raw)} is not valid: expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`,
    );
  return value;
}

/** Parses the options; returns undefined when --help was asked for. */
export function parseBenchArgs(
  argv: string[],
  defaultNodeArgs: readonly string[] = [],
): BenchArgs | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      workload: { type: 'string' },
      clients: { type: 'string' },
      rooms: { type: 'string' },
      channels: { type: 'string' },
      sites: { type: 'string' },
      'burst-rate': { type: 'string' },
      burst: { type: 'string' },
      drop: { type: 'string' },
      paths: { type: 'string' },
      'room-share': { type: 'string' },
      rate: { type: 'string' },
      'details-share': { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      workers: { type: 'string' },
      redis: { type: 'string' },
      instances: { type: 'string' },
      'client-procs': { type: 'string' },
      seed: { type: 'string' },
      dist: { type: 'string' },
      'no-build': { type: 'boolean' },
      'no-floor': { type: 'boolean' },
      'ws-floors': { type: 'string' },
      'no-peer': { type: 'boolean' },
      'peer-default-flags': { type: 'boolean' },
      'cpu-prof': { type: 'boolean' },
      'node-args': { type: 'string' },
      env: { type: 'string', multiple: true },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return undefined;
  const workload = (values.workload ?? 'emojitrack') as WorkloadName;
  if (!WORKLOADS.includes(workload))
    throw new Error(`--workload ${workload} is not valid: expected ${WORKLOADS.join(', ')}`);
  const paths = (values.paths ?? PUBLISH_PATHS.join(','))
    .split(',')
    .map((p) => p.trim()) as PublishPath[];
  const badPath = paths.find((p) => !PUBLISH_PATHS.includes(p));
  if (badPath !== undefined || paths.length === 0)
    throw new Error(
      `--paths ${values.paths ?? ''} is not valid: expected a list of ${PUBLISH_PATHS.join(', ')}`,
    );
  const wsFloors = (values['ws-floors'] ?? 'naive,framed')
    .split(',')
    .map((f) => f.trim()) as WsFloorKind[];
  if (wsFloors.length === 0 || wsFloors.some((f) => !WS_FLOORS.includes(f)))
    throw new Error(
      `--ws-floors ${values['ws-floors'] ?? ''} is not valid: expected a list of ${WS_FLOORS.join(', ')}`,
    );
  const rate = number(values, 'rate', DEFAULT_RATE[workload], 0, 100_000);
  // A recovering client knows it caught up at the first message published after its reconnect.
  if (workload === 'recovery' && rate === 0)
    throw new Error('--rate 0 is not valid on recovery: clients catch up on messages');
  const redis = (values.redis ?? 'single') as RedisMode;
  if (!REDIS_MODES.includes(redis))
    throw new Error(`--redis ${redis} is not valid: expected ${REDIS_MODES.join(', ')}`);
  const instances = number(values, 'instances', 1, 1, 16);
  // The other workloads' feeders, floors and figures assume one server on one Redis.
  const spread = [
    ...(redis === 'single' ? [] : [`--redis ${redis}`]),
    ...(instances === 1 ? [] : [`--instances ${instances}`]),
  ];
  if (workload !== 'pubsub' && spread.length > 0)
    throw new Error(
      `${spread.join(' ')} is not valid on ${workload}: ` +
        'only pubsub runs on a Redis Cluster or on several instances',
    );
  return {
    workload,
    clients: number(values, 'clients', DEFAULT_CLIENTS[workload] ?? 1000, 1, 50_000),
    rate,
    rooms: number(values, 'rooms', 50, 2, 100_000),
    channels: number(values, 'channels', 1, 1, 100_000),
    sites: number(values, 'sites', 20, 1, 100_000),
    burstRate: number(values, 'burst-rate', 5000, 0, 1_000_000),
    burstS: number(values, 'burst', 10, 0, 3600, false),
    dropS: number(values, 'drop', 2, 0, 600, false),
    paths: [...new Set(paths)],
    roomShare: number(values, 'room-share', 0.8, 0, 1, false),
    detailsShare: number(values, 'details-share', 0.2, 0, 1, false),
    durationS: number(values, 'duration', 20, 1, 3600, false),
    warmupS: number(values, 'warmup', 5, 0, 3600, false),
    workers: number(values, 'workers', 1, 1, 64),
    redis,
    instances,
    clientProcs: number(values, 'client-procs', 1, 1, 64),
    seed: number(values, 'seed', 24301, 0, 2 ** 32 - 1),
    dist: values.dist,
    build: !values['no-build'] && values.dist === undefined,
    floor: !values['no-floor'],
    wsFloors: [...new Set(wsFloors)],
    peer: !values['no-peer'],
    peerDefaultFlags: values['peer-default-flags'] ?? false,
    cpuProf: values['cpu-prof'] ?? false,
    nodeArgs:
      values['node-args'] === undefined
        ? defaultNodeArgs
        : values['node-args'].split(/\s+/).filter((a) => a !== ''),
    env: envPairs(values.env),
  };
}
