// Two server processes on a six-node Redis Cluster (3 masters, 3 replicas), with
// pub/sub channels sharded, behind deploy/nginx.conf in a real nginx: the nginx
// suites' setup, and how they pin a client to an instance through the proxy
// (nginx spreads connections, so a client is found by its User-Agent in an
// instance's status document).
import type { Cluster } from 'ioredis';
import { nginxInstalled, startNginx } from './nginx.js';
import type { TestNginx } from './nginx.js';
import { startServerProcess } from './process.js';
import type { ServerProcess } from './process.js';
import { startRedisCluster } from './redisCluster.js';
import type { TestRedisCluster } from './redisCluster.js';
import { waitUntil } from './sse.js';
import { ADMIN_TOKEN, adminStatus } from './status.js';
import { openWs } from './ws.js';
import type { WsClient } from './ws.js';

export type Name = 'a' | 'b';
export const NAMES: readonly Name[] = ['a', 'b'];

/**
 * Why the nginx suites are skipped ('' when they run): in CI setup.sh has
 * installed nginx, and there they fail if it is missing.
 */
export const noNginx =
  !nginxInstalled() && !process.env.CI
    ? ' (skipped: nginx is not installed; scripts/setup.sh installs it)'
    : '';

export const PUBLISH_API_KEY = 'test-publish-key-0123456789';
/** The site streams' queue (DATASTREAM_KEY as the instances run). */
export const QUEUE = 'datastream:incoming';

export interface NginxPair {
  readonly cluster: TestRedisCluster;
  /** A command connection to the cluster (sharded pub/sub too). */
  readonly cli: Cluster;
  readonly instances: Readonly<Record<Name, ServerProcess>>;
  readonly nginx: TestNginx;
  /** A User-Agent no client had: what finds a client in an instance's status. */
  userAgent(): string;
  /** Run by stop(): for the clients a test leaves open. */
  closeLater(close: () => void): void;
  /** A WebSocket client through nginx, as a page on nginx's own origin opens it. */
  ws(path: string, userAgent?: string): Promise<WsClient>;
  /** The instance whose status lists a connection with this User-Agent. */
  instanceOf(userAgent: string): Promise<Name>;
  /**
   * Opens clients through nginx until one is on each instance; the others are
   * closed. `open` gets the User-Agent the client must send.
   */
  onEachInstance<T>(
    open: (userAgent: string) => Promise<T>,
    close: (client: T) => void,
  ): Promise<Record<Name, T>>;
  stop(): Promise<void>;
}

/** A page's headers: its Origin is the proxy's own address, as the browser saw the page. */
export const pageHeaders = (userAgent: string, proxy: TestNginx): Record<string, string> => ({
  'User-Agent': userAgent,
  Origin: proxy.url,
});

export const wsUrl = (path: string, proxy: TestNginx): string =>
  `ws://127.0.0.1:${proxy.port}${path}`;

/** Starts the cluster, instances `a` and `b` on it (`env` added to theirs), and nginx. */
export async function startNginxPair(env: Record<string, string> = {}): Promise<NginxPair> {
  const cluster = await startRedisCluster();
  const cli = cluster.client();
  const closers: (() => void)[] = [];
  /** Every process started, so that a failed start stops the other one too. */
  const processes: ServerProcess[] = [];
  let nginx: TestNginx | undefined;
  const stop = async () => {
    for (const close of closers.splice(0)) close();
    await nginx?.stop();
    await Promise.all(processes.map((p) => p.stop()));
    await cluster.stop();
  };
  let instances: Record<Name, ServerProcess>;
  try {
    const instanceEnv = (name: Name) => ({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      NODE_ENV: 'test',
      REDIS_CLUSTER_NODES: cluster.seeds,
      REDIS_SHARDED_CHANNELS: 'pubsub:*',
      NODE_NAME: name,
      // nginx's address, as the instances see it: its X-Forwarded-For is believed, a client's is not.
      TRUST_PROXY: '127.0.0.1',
      ADMIN_TOKEN,
      PUBLISH_API_KEY,
      DATASTREAM_RESUME_DELAY_MS: '0',
      DATASTREAM_BLOCK_MS: '200',
      SHUTDOWN_TIMEOUT_MS: '5000',
      ...env,
    });
    const [a, b] = await Promise.all(
      NAMES.map(async (name) => {
        const p = await startServerProcess(instanceEnv(name));
        processes.push(p);
        return p;
      }),
    );
    instances = { a: a as ServerProcess, b: b as ServerProcess };
    nginx = await startNginx([instances.a.port, instances.b.port]);
  } catch (err) {
    await stop();
    throw err;
  }
  const started = { instances, nginx };
  let seq = 0;

  const instanceOf = async (userAgent: string): Promise<Name> => {
    let found: Name | undefined;
    await waitUntil(
      async () => {
        for (const name of NAMES) {
          // An instance a test stopped is not asked.
          if (started.instances[name].child.exitCode !== null) continue;
          const status = await adminStatus(started.instances[name].url);
          if (status.connections.some((c) => c.user_agent === userAgent)) found = name;
        }
        return found !== undefined;
      },
      5_000,
      `a connection with User-Agent ${userAgent}`,
    );
    return found as Name;
  };

  return {
    cluster,
    cli,
    ...started,
    userAgent: () => `nginx-test/${++seq}`,
    closeLater: (close) => closers.push(close),
    async ws(path, userAgent = `nginx-test/${++seq}`) {
      const c = await openWs(wsUrl(path, started.nginx), pageHeaders(userAgent, started.nginx));
      closers.push(() => c.close());
      return c;
    },
    instanceOf,
    async onEachInstance<T>(
      open: (userAgent: string) => Promise<T>,
      close: (client: T) => void,
    ): Promise<Record<Name, T>> {
      const got: Partial<Record<Name, T>> = {};
      for (let i = 0; i < 40 && !(got.a && got.b); i++) {
        const userAgent = `nginx-test/${++seq}`;
        const client = await open(userAgent);
        const name = await instanceOf(userAgent);
        if (got[name] === undefined) got[name] = client;
        else close(client);
      }
      if (!got.a || !got.b) throw new Error('40 clients through nginx, all on one instance');
      return got as Record<Name, T>;
    },
    stop,
  };
}
