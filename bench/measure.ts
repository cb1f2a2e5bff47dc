// One measured run against a target (the server or the floor): connect the
// clients, warm up, then read every counter at the start and the end of a steady
// window. The same code measures both, so their figures compare.
import type { ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { forkBench, nextMessage, stopChild } from './children.js';
import { summarize } from './histogram.js';
import type { LatencySummary } from './histogram.js';
import type { ClientGroup, ClientPlan, ClientSnapshot, FromClients, ToClients } from './ipc.js';
import { machineCpu, treeCpuSeconds, treeRssBytes } from './procStats.js';
import type { MachineCpu } from './procStats.js';

/** `rx`, or a floor's or a peer's name as the table shows it (`floor`, `ws naive`, `socket.io`…). */
export type TargetName = string;

/** One process of a target (the server may run as several instances), and the port it listens on. */
export interface Instance {
  readonly pid: number;
  readonly port: number;
}

export interface Target {
  readonly name: TargetName;
  /** The clients are spread over them (instanceOf in ipc.ts); their CPU and RSS are summed. */
  readonly instances: readonly Instance[];
  /** Load-generating processes besides the clients (feeder, redis): their CPU is reported, a list's summed. */
  readonly helpers: Readonly<Record<string, number | readonly number[]>>;
  /** Counters only the target knows, read right after the window. */
  serverSide(): Promise<ServerSide>;
  /** Running counters the target keeps, read at both ends of the window. */
  counters?(): Promise<Readonly<Record<string, number>>>;
  /** A phase after the window, with the clients still connected (datastream: the burst). */
  afterWindow?(clients: ClientProbe): Promise<Readonly<Record<string, number>>>;
}

/** The clients as a phase after the window sees them. */
export interface ClientProbe {
  /** Events received so far over every connection; `resetLatency` starts a new latency record. */
  events(resetLatency: boolean): Promise<number>;
  /** Latency since the last reset. */
  latency(): Promise<LatencySummary>;
}

export interface ServerSide {
  /** Streams the target says are open. */
  readonly connections: number | null;
  /** Clients the target dropped as too slow (null when it cannot say). */
  readonly drops: number | null;
  readonly extra?: Readonly<Record<string, unknown>>;
}

export interface Workload {
  /** The streams to open, spread over the client processes (`firstIndex` is set per process). */
  readonly groups: readonly Omit<ClientGroup, 'firstIndex'>[];
  readonly clientProcs: number;
  readonly warmupS: number;
  readonly durationS: number;
}

/** One instance's share of a target's CPU and RSS figures. */
export interface InstanceFigures extends Instance {
  readonly cpuSeconds: number;
  readonly corePercent: number;
  readonly rss: {
    readonly beforeClients: number;
    readonly afterConnect: number;
    readonly end: number;
  };
}

export interface PerClientRate {
  readonly mean: number;
  readonly min: number;
}

export interface TargetResult {
  readonly name: TargetName;
  readonly connected: number;
  readonly failed: number;
  readonly windowS: number;
  readonly deliveries: number;
  readonly deliveriesPerS: number;
  /** Events per second per stream, by client group. */
  readonly rates: Readonly<Record<string, PerClientRate>>;
  /** Receipt minus `sent_at`, over the events of the timed groups. */
  readonly latencyMs: LatencySummary;
  /**
   * Server (or floor) process trees, every instance's summed: CPU seconds in the
   * window, share of one core, per delivery.
   */
  readonly cpu: {
    readonly seconds: number;
    readonly corePercent: number;
    readonly usPerDelivery: number;
  };
  /** VmRSS of the process trees, every instance's summed. */
  readonly rss: {
    readonly beforeClients: number;
    readonly afterConnect: number;
    readonly end: number;
    readonly perConnectionAtConnect: number;
    readonly perConnectionAtEnd: number;
  };
  readonly errors: number;
  readonly drops: number | null;
  readonly disconnects: number;
  readonly serverSide: ServerSide;
  /** With several instances: each one's figures. */
  readonly perInstance?: readonly InstanceFigures[];
  /** How much each of the target's own counters grew in the window. */
  readonly counters: Readonly<Record<string, number>>;
  /** What the phase after the window found, when there is one. */
  readonly afterWindow?: Readonly<Record<string, number>>;
  /** Share of one core used by each client process, the feeder, redis and this runner. */
  readonly loadGenCorePercent: Readonly<Record<string, number>>;
  readonly machine: {
    readonly cores: number;
    readonly busyPercent: number;
    /** CPU of processes outside this benchmark, as a share of one core. */
    readonly otherCorePercent: number;
    readonly loadavg: readonly number[];
  };
  readonly warnings: string[];
}

interface Snapshot {
  readonly at: number;
  /** By instance. */
  readonly serverCpu: number[];
  readonly clientCpu: number[];
  readonly helperCpu: Record<string, number>;
  readonly runnerCpu: number;
  readonly machine: MachineCpu;
  readonly clients: ClientSnapshot[];
  readonly counters: Readonly<Record<string, number>>;
}

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
const sum = (xs: readonly number[]) => xs.reduce((x, y) => x + y, 0);
const pidsOf = (pids: number | readonly number[]) => (typeof pids === 'number' ? [pids] : pids);

/** n split over k parts as evenly as possible. */
function share(n: number, k: number, i: number): number {
  return Math.floor(((i + 1) * n) / k) - Math.floor((i * n) / k);
}

async function clientSnapshots(
  clients: ChildProcess[],
  resetLatency: boolean,
): Promise<ClientSnapshot[]> {
  const request: ToClients = { type: 'snapshot', resetLatency };
  const answers = clients.map((c) => nextMessage<FromClients, 'snapshot'>(c, 'snapshot'));
  for (const c of clients) c.send(request);
  return (await Promise.all(answers)).map((m) => m.snapshot);
}

async function snapshot(
  target: Target,
  clients: ChildProcess[],
  resetLatency: boolean,
): Promise<Snapshot> {
  const [snaps, counters] = await Promise.all([
    clientSnapshots(clients, resetLatency),
    target.counters?.() ?? {},
  ]);
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    serverCpu: target.instances.map((i) => treeCpuSeconds(i.pid)),
    clientCpu: clients.map((c) => treeCpuSeconds(c.pid as number)),
    helperCpu: Object.fromEntries(
      Object.entries(target.helpers).map(([name, pids]) => [
        name,
        sum(pidsOf(pids).map(treeCpuSeconds)),
      ]),
    ),
    runnerCpu: (usage.user + usage.system) / 1e6,
    machine: machineCpu(),
    clients: snaps,
    counters,
  };
}

function rates(before: number[][], after: number[][], windowS: number): PerClientRate {
  let sum = 0;
  let n = 0;
  let min = Infinity;
  after.forEach((counts, p) => {
    counts.forEach((count, i) => {
      const delta = count - (before[p]?.[i] ?? 0);
      sum += delta;
      n++;
      if (delta < min) min = delta;
    });
  });
  return n === 0 ? { mean: NaN, min: NaN } : { mean: sum / n / windowS, min: min / windowS };
}

const progress = (text: string) => process.stderr.write(`  ${text}\n`);

function probe(clients: ChildProcess[]): ClientProbe {
  const snaps = (resetLatency: boolean) => clientSnapshots(clients, resetLatency);
  return {
    async events(resetLatency) {
      return sum((await snaps(resetLatency)).map((c) => sum(Object.values(c.events).flat())));
    },
    async latency() {
      return summarize((await snaps(false)).map((c) => c.latency));
    },
  };
}

export async function measure(target: Target, workload: Workload): Promise<TargetResult> {
  const rss = () => target.instances.map((i) => treeRssBytes(i.pid));
  const rssBefore = rss();
  const total = workload.groups.reduce((n, g) => n + g.count, 0);
  progress(`${target.name}: connecting ${total} clients over ${workload.clientProcs} process(es)`);
  const clients = Array.from({ length: workload.clientProcs }, (_, i) => {
    const plan: ClientPlan = {
      host: '127.0.0.1',
      ports: target.instances.map((instance) => instance.port),
      groups: workload.groups.map((g) => ({
        ...g,
        count: share(g.count, workload.clientProcs, i),
        firstIndex: Math.floor((i * g.count) / workload.clientProcs),
      })),
      connectBatch: 100,
    };
    return forkBench('clients', plan);
  });
  try {
    const connections = await Promise.all(
      clients.map((c) => nextMessage<FromClients, 'connected'>(c, 'connected', 180_000)),
    );
    const connected = connections.reduce((a, c) => a + c.ok, 0);
    const failed = connections.reduce((a, c) => a + c.failed, 0);
    const firstError = connections.find((c) => c.firstError)?.firstError;
    if (connected === 0) throw new Error(`no client could connect: ${firstError ?? 'unknown'}`);
    const rssConnected = rss();
    progress(`${target.name}: ${connected} connected; warming up for ${workload.warmupS} s`);
    await sleep(workload.warmupS);
    const a = await snapshot(target, clients, true);
    progress(`${target.name}: measuring for ${workload.durationS} s`);
    await sleep(workload.durationS);
    const b = await snapshot(target, clients, false);
    const rssEnd = rss();
    const serverSide = await target.serverSide();
    const afterWindow = await target.afterWindow?.(probe(clients));

    const windowS = (b.at - a.at) / 1000;
    const events = (s: Snapshot) =>
      sum(s.clients.map((c) => sum(Object.values(c.events).map(sum))));
    const deliveries = events(b) - events(a);
    const instanceCpu = b.serverCpu.map((cpu, i) => cpu - (a.serverCpu[i] ?? 0));
    const serverCpu = sum(instanceCpu);
    const core = (seconds: number) => (100 * seconds) / windowS;
    const perInstance = target.instances.map((instance, i): InstanceFigures => ({
      ...instance,
      cpuSeconds: instanceCpu[i] ?? NaN,
      corePercent: core(instanceCpu[i] ?? NaN),
      rss: {
        beforeClients: rssBefore[i] ?? NaN,
        afterConnect: rssConnected[i] ?? NaN,
        end: rssEnd[i] ?? NaN,
      },
    }));
    const loadGen: Record<string, number> = {};
    b.clientCpu.forEach(
      (cpu, i) => (loadGen[`clients${i + 1}`] = core(cpu - (a.clientCpu[i] ?? 0))),
    );
    for (const [name, cpu] of Object.entries(b.helperCpu))
      loadGen[name] = core(cpu - (a.helperCpu[name] ?? 0));
    loadGen.runner = core(b.runnerCpu - a.runnerCpu);
    const busy = b.machine.busySeconds - a.machine.busySeconds;
    const ours = serverCpu + sum(Object.values(loadGen)) * (windowS / 100);
    const machine = {
      cores: b.machine.cores,
      busyPercent: (100 * busy) / windowS / b.machine.cores,
      otherCorePercent: Math.max(0, core(busy - ours)),
      loadavg: loadavg(),
    };

    const warnings: string[] = [];
    if (failed > 0) warnings.push(`${failed} clients could not connect: ${firstError ?? ''}`);
    for (const [name, pct] of Object.entries(loadGen)) {
      if (pct > 85) {
        warnings.push(
          `load generator is the bottleneck: ${name} used ${pct.toFixed(0)} % of a core` +
            (name.startsWith('clients') ? ' (raise --client-procs)' : ''),
        );
      }
    }
    if (machine.busyPercent > 90) {
      warnings.push(
        `the machine was saturated (${machine.busyPercent.toFixed(0)} % of ${machine.cores} cores busy): figures include contention`,
      );
    }
    if (machine.otherCorePercent > 20) {
      warnings.push(
        `other processes used ${machine.otherCorePercent.toFixed(0)} % of a core during the window`,
      );
    }

    return {
      name: target.name,
      connected,
      failed,
      windowS,
      deliveries,
      deliveriesPerS: deliveries / windowS,
      rates: Object.fromEntries(
        workload.groups.map(({ name }) => [
          name,
          rates(
            a.clients.map((c) => c.events[name] ?? []),
            b.clients.map((c) => c.events[name] ?? []),
            windowS,
          ),
        ]),
      ),
      latencyMs: summarize(b.clients.map((c) => c.latency)),
      cpu: {
        seconds: serverCpu,
        corePercent: core(serverCpu),
        usPerDelivery: (serverCpu * 1e6) / deliveries,
      },
      rss: {
        beforeClients: sum(rssBefore),
        afterConnect: sum(rssConnected),
        end: sum(rssEnd),
        perConnectionAtConnect: (sum(rssConnected) - sum(rssBefore)) / connected,
        perConnectionAtEnd: (sum(rssEnd) - sum(rssBefore)) / connected,
      },
      errors: sum(b.clients.map((c) => c.errors)),
      drops: serverSide.drops,
      disconnects: sum(b.clients.map((c) => c.disconnects)),
      serverSide,
      ...(perInstance.length > 1 ? { perInstance } : {}),
      counters: Object.fromEntries(
        Object.entries(b.counters).map(([name, value]) => [name, value - (a.counters[name] ?? 0)]),
      ),
      ...(afterWindow ? { afterWindow } : {}),
      loadGenCorePercent: loadGen,
      machine,
      warnings,
    };
  } finally {
    await Promise.all(clients.map((c) => stopChild(c, { type: 'close' } satisfies ToClients)));
  }
}
