// What the pub/sub sessions of one server share: the channels as a hub family
// (fed by the shared source, Redis channel `<prefix><channel>`, and by Postgres
// NOTIFY where configured), the channel history client publishes go through
// and sessions recover from, the authenticators, the push traps every client
// publish goes through on its way to the bus, the monitors, and the counters.
import { Subject, firstValueFrom, forkJoin, map, merge, of, pipe, take, timeout } from 'rxjs';
import type { Observable, OperatorFunction, Subscription } from 'rxjs';
import type { BusMessage } from '../../core/message.js';
import type { Position } from '../../core/position.js';
import type { Session } from '../../core/session.js';
import type { HeldJoin } from '../../fanout/Hub.js';
import { watchGaps } from '../../operators/watchGaps.js';
import { channelStart } from '../channelStart.js';
import type { ChannelStart } from '../channelStart.js';
import { TokenBucket } from '../../core/TokenBucket.js';
import { resubscribe } from '../../operators/resubscribe.js';
import type { ProtocolContext } from '../protocol.js';
import { authorizer } from '../authorize.js';
import type { SessionCounts } from '../ProtocolSession.js';
import type { PubsubConfig } from './config.js';
import type { AuthRequest, ClientPublish, PubsubHooks } from './hooks.js';
import { channelMessage, channelProblem, gapFrame, toJson } from './wire.js';

/** The hub family of the pub/sub channels, one topic per channel. */
export const PUBSUB_FAMILY = 'pubsub';

/** What a channel's topic carries: its messages, and word of messages lost before they got here. */
type ChannelItem = BusMessage | { readonly lostOn: string };

/** The longest channel name Postgres LISTENs to as it is (NAMEDATALEN - 1; names are ASCII). */
const PG_MAX_NAME = 63;

/** Addresses with a publish budget kept before the idle ones are swept. */
const ADDRESS_SWEEP = 10_000;

/** After a monitor fails, it is subscribed again this much later (ms). */
const MONITOR_RETRY_MS = 1_000;

export interface PubsubCounts extends SessionCounts {
  in: number;
  published: number;
  denied: number;
  monitored: number;
}

/** Told when a publish a client asked for could not reach the bus. */
type PublishFailed = (client: ClientPublish['client'], channel: string) => void;

export class PubsubService {
  readonly counts: PubsubCounts = {
    in: 0,
    published: 0,
    controlErrors: 0,
    denied: 0,
    monitored: 0,
  };
  /** Every check that applies must allow; a throw, a rejection or a timeout denies. */
  readonly allowed: (request: AuthRequest) => Promise<boolean>;
  private readonly publishes = new Subject<ClientPublish>();
  /** Publishes sent to the bus and not answered yet, per client. */
  private readonly inFlight = new WeakMap<ClientPublish['client'], number>();
  /** Publish bytes per client address; an address whose bucket is full again is forgotten. */
  private readonly addressBudgets = new Map<string, TokenBucket>();
  private trapping: Subscription | undefined;
  private readonly monitoring: Subscription[];

  constructor(
    private readonly ctx: ProtocolContext,
    readonly config: PubsubConfig,
    readonly hooks: PubsubHooks,
    private readonly publishFailed: PublishFailed,
  ) {
    const prefix = config.redisPrefix;
    ctx.hub.addFamily<ChannelItem>(PUBSUB_FAMILY, {
      topicFeed: (channel) => this.feed(channel),
      maxTopics: { count: config.maxTopics, variable: 'PUBSUB_MAX_TOPICS' },
      encode: {
        ws: (m) =>
          'lostOn' in m
            ? gapFrame(m.lostOn)
            : channelMessage(m.channel.slice(prefix.length), m.payload, m.position?.offset),
      },
    });
    this.allowed = authorizer({ ...hooks, timeoutMs: config.authTimeoutMs, logger: ctx.logger });
    this.startTraps();
    // Monitors feed this instance's subscribers; one that fails starts again.
    this.monitoring = (hooks.monitors ?? []).map((monitor) =>
      monitor
        .pipe(
          resubscribe(
            {
              delayMs: MONITOR_RETRY_MS,
              onError: (err) =>
                ctx.logger.error('a pub/sub monitor failed; it starts again', {
                  error: String(err),
                }),
            },
            ctx.scheduler,
          ),
        )
        .subscribe(({ channel, message }) => {
          if (channelProblem(channel)) return;
          this.counts.monitored++;
          ctx.hub.publish(PUBSUB_FAMILY, channel, {
            channel: this.redisChannel(channel),
            payload: toJson(message),
            receivedAt: Date.now(),
          } satisfies BusMessage);
        }),
    );
  }

  /** The channels a session is subscribed to. */
  channelsOf(session: Session): string[] {
    return this.ctx.hub.topicsOf(session, PUBSUB_FAMILY);
  }

  isIn(session: Session, channel: string): boolean {
    return this.ctx.hub.isIn(session, PUBSUB_FAMILY, channel);
  }

  /** Why a session may not join a channel now (a bound), or undefined. */
  joinRefusal(session: Session, channel: string): string | undefined {
    if (!this.isIn(session, channel) && this.channelsOf(session).length >= this.config.maxChannels)
      return `at most ${this.config.maxChannels} channels at once: unsubscribe from one first`;
    const { postgres } = this.ctx;
    if (
      postgres &&
      this.config.pgChannels === '*' &&
      this.fromPostgres(channel) &&
      !postgres.isListening(channel) &&
      postgres.listeningCount >= this.config.pgMaxChannels
    )
      return `this server LISTENs to at most ${this.config.pgMaxChannels} Postgres channels at once (PG_MAX_CHANNELS); try again later`;
    return this.ctx.hub.topicRefusal(PUBSUB_FAMILY, channel)?.message;
  }

  /**
   * Puts a session in a channel with its deliveries held until it has been
   * told where it starts (see Hub.hold); undefined when the topic is refused.
   */
  hold(session: Session, channel: string): HeldJoin<BusMessage> | undefined {
    return this.ctx.hub.hold(session, PUBSUB_FAMILY, channel);
  }

  /**
   * Where a session starts on a channel: its top now, or what it missed since
   * the position it came back with; undefined on a server without history.
   */
  async start(channel: string, since: Position | undefined): Promise<ChannelStart | undefined> {
    const { history } = this.ctx;
    if (!history) return undefined;
    return channelStart(
      history,
      this.ctx.source,
      this.redisChannel(channel),
      since,
      this.ctx.config.recoveryMax,
    );
  }

  leave(session: Session, channel: string): void {
    this.ctx.hub.leave(session, PUBSUB_FAMILY, channel);
  }

  /** Resolves once the channel's subscription is live; rejects after the subscribe timeout. */
  async live(channel: string): Promise<void> {
    const redis = this.ctx.source.live?.(this.redisChannel(channel)) ?? of(undefined);
    const { postgres } = this.ctx;
    const ready: Observable<unknown> =
      postgres && this.fromPostgres(channel)
        ? forkJoin([redis.pipe(take(1)), postgres.live(channel).pipe(take(1))])
        : redis;
    await firstValueFrom(
      ready.pipe(timeout({ first: this.config.subscribeTimeoutMs, scheduler: this.ctx.scheduler })),
    );
  }

  /**
   * Takes `bytes` of the address's publish budget (PUBSUB_PUBLISH_BYTES_PER_S);
   * the refusal's text when it is used up.
   */
  spendAddress(ip: string, bytes: number): string | undefined {
    const rate = this.config.publishBytesPerS;
    let bucket = this.addressBudgets.get(ip);
    if (!bucket) {
      if (this.addressBudgets.size >= ADDRESS_SWEEP) {
        for (const [address, b] of this.addressBudgets)
          if (b.full()) this.addressBudgets.delete(address);
      }
      // One message as large as a frame may go at once.
      bucket = new TokenBucket(rate, Math.max(rate, this.ctx.config.wsMaxFrameBytes));
      this.addressBudgets.set(ip, bucket);
    }
    if (bucket.take(bytes)) return undefined;
    return `publishing too fast from this address: at most ${rate} bytes a second (PUBSUB_PUBLISH_BYTES_PER_S); try again`;
  }

  /**
   * Why a client may not publish now because too many of its publishes wait for
   * the bus (PUBSUB_PUBLISH_IN_FLIGHT), or undefined: a slow Redis makes a fast
   * publisher wait instead of queueing its publishes in this process.
   */
  inFlightRefusal(client: ClientPublish['client']): string | undefined {
    const max = this.config.publishInFlight;
    return (this.inFlight.get(client) ?? 0) >= max
      ? `${max} publishes are still on their way (PUBSUB_PUBLISH_IN_FLIGHT); try again once they are acknowledged`
      : undefined;
  }

  /** A client's publish, through the push traps to the bus. */
  trap(publish: ClientPublish): void {
    this.publishes.next(publish);
  }

  /**
   * Publishes past the push traps, with history where the server keeps it:
   * every instance's subscribers get it, and clients that come back recover it.
   */
  async publishOut(channel: string, message: unknown): Promise<void> {
    const { history, publisher } = this.ctx;
    if (!history && !publisher) throw new Error('publishing is not available on this server');
    this.counts.published++;
    const payload = toJson(message);
    if (history) await history.publish(this.redisChannel(channel), payload);
    else await publisher?.publish(this.redisChannel(channel), payload);
  }

  /** Logs a session's failure. */
  log(message: string, error: string): void {
    this.ctx.logger.error(message, { error });
  }

  /** Runs an opening or closing hook; its failure is logged. */
  runHook(what: string, run: () => unknown): void {
    Promise.resolve()
      .then(run)
      .catch((err: unknown) =>
        this.ctx.logger.error(`a pub/sub ${what} failed`, { error: String(err) }),
      );
  }

  close(): void {
    this.trapping?.unsubscribe();
    for (const m of this.monitoring) m.unsubscribe();
  }

  private redisChannel(channel: string): string {
    return `${this.config.redisPrefix}${channel}`;
  }

  /** Postgres channel names are at most 63 bytes (it cuts longer ones short: another channel). */
  private fromPostgres(channel: string): boolean {
    const { pgChannels } = this.config;
    if (this.ctx.postgres === undefined) return false;
    return pgChannels === '*' ? channel.length <= PG_MAX_NAME : pgChannels.includes(channel);
  }

  /**
   * With Postgres, `NOTIFY c, 'payload'` reaches channel c too: LISTEN while c
   * has subscribers. Messages lost before they got here (an offset skipped) are
   * told to the channel's subscribers in their place.
   */
  private feed(channel: string): Observable<BusMessage> {
    const redisChannel = this.redisChannel(channel);
    const lost = { lostOn: channel };
    const redis = this.ctx.source
      .channel(redisChannel)
      .pipe(watchGaps(() => this.ctx.hub.publish(PUBSUB_FAMILY, channel, lost)));
    const { postgres } = this.ctx;
    if (!postgres || !this.fromPostgres(channel)) return redis;
    return merge(
      redis,
      postgres.channel(channel).pipe(map((n): BusMessage => ({ ...n, channel: redisChannel }))),
    );
  }

  // Client publishes, through the push traps, to the bus. A trap that errors is
  // logged and the chain subscribed again, so one bad message stops nothing.
  private startTraps(): void {
    const traps = (this.hooks.pushTraps ?? []).reduce<
      OperatorFunction<ClientPublish, ClientPublish>
    >(
      (chain, trap) => pipe(chain, trap),
      (p) => p,
    );
    const log = this.ctx.logger;
    this.trapping = this.publishes
      .pipe(
        traps,
        resubscribe({
          delayMs: 0,
          onError: (err) =>
            log.error('a push trap failed; the chain starts again', { error: String(err) }),
        }),
      )
      .subscribe((p) => {
        const problem = channelProblem(p.channel);
        if (problem) {
          log.warn('a push trap sent a publish to a bad channel; dropped', { problem });
          return;
        }
        const { client } = p;
        this.inFlight.set(client, (this.inFlight.get(client) ?? 0) + 1);
        this.publishOut(p.channel, p.message)
          .catch((err: unknown) => {
            log.error('a publish failed', { channel: p.channel, error: String(err) });
            this.publishFailed(client, p.channel);
          })
          .finally(() => {
            const left = (this.inFlight.get(client) ?? 1) - 1;
            if (left > 0) this.inFlight.set(client, left);
            else this.inFlight.delete(client);
          });
      });
  }
}
