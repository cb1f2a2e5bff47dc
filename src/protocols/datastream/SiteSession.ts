// One site-stream client: it follows one site (all its topics, or some), joined
// in the hub only once an authenticator allowed it, and may switch with
// `updatesubscribersite`. Its site and topics are what the hub has it in; it
// is the client the hooks see, too. A client that comes back with the last id
// it got (`lastEventId`) is given what it missed first (see resume()).
import type { SchedulerLike } from 'rxjs';
import type { HeldJoin, Hub } from '../../fanout/Hub.js';
import type { Session } from '../../core/session.js';
import { compareEntryIds } from '../../sources/SiteHistory.js';
import type { SiteHistory, SiteRecovery } from '../../sources/SiteHistory.js';
import type { AuthRequest } from '../authorize.js';
import { controlMessage } from '../controlFrames.js';
import { ProtocolSession } from '../ProtocolSession.js';
import type { SessionCounts } from '../ProtocolSession.js';
import type { DeliveredPosition } from './DeliveredPosition.js';
import type { SiteClient } from './hooks.js';
import { frameTopic, outgoing, parseAction } from './wire.js';
import type { Outgoing, SiteAction } from './wire.js';

/** The hub family of the site streams: topic `<site>` for every topic, `<site>/<topic>` for one. */
export const DATASTREAM_FAMILY = 'datastream';

/** The close code of a client whose first site is not allowed (a policy violation). */
const WS_POLICY = 1008;

/** The hub topics of a site, narrowed to some of its topics or not. */
export const topicKeys = (site: string, topics: readonly string[] | undefined): string[] =>
  topics ? topics.map((t) => `${site}/${t}`) : [site];

/** The counters of the site sessions. */
export interface SiteCounts extends SessionCounts {
  /** Reconnecting clients given all they missed, and those told they were not. */
  recovered: number;
  unrecovered: number;
}

/** What recovery on reconnect reads. */
export interface SiteRecovering {
  readonly history: SiteHistory;
  readonly delivered: DeliveredPosition;
  /** The most entries one recovery replays (RECOVERY_MAX). */
  readonly max: number;
  /** How long a client that got further on another instance waits for this one to catch up. */
  readonly catchUpMs: number;
  readonly scheduler: SchedulerLike;
}

/** What the sessions of one server share. */
export interface SiteSessions {
  readonly hub: Hub;
  readonly counts: SiteCounts;
  readonly maxTopics: number;
  readonly allowed: (request: AuthRequest<SiteClient>) => Promise<boolean>;
  readonly log: (message: string, error: string) => void;
  readonly recovery: SiteRecovering;
}

/** A recovery's outcome, and the last entry it covers. */
type Resumed = SiteRecovery & { readonly upTo?: string };

export class SiteSession extends ProtocolSession implements SiteClient {
  /** The site asked for, until one is allowed (and joined). */
  private wanted: string;
  /** Frames are handled in order, so a switch never overtakes the one before it. */
  private turn: Promise<unknown>;

  /** `lastEventId`: the last entry id the client got before it reconnected, if it did. */
  constructor(
    session: Session,
    private readonly shared: SiteSessions,
    first: SiteAction,
    lastEventId?: string,
  ) {
    super(session, shared.counts);
    this.wanted = first.site;
    session.describe = () => {
      const topics = this.topics();
      return { site: this.site(), topics: topics ?? 'all', topics_total: topics?.length ?? 0 };
    };
    this.turn = this.switchTo(first, lastEventId).then((ok) => {
      if (!ok) this.close(WS_POLICY, 'site not allowed');
    });
  }

  site(): string {
    const [key] = this.keys();
    return key === undefined ? this.wanted : (key.split('/')[0] as string);
  }

  topics(): readonly string[] | undefined {
    const keys = this.keys();
    if (keys.length === 0) return [];
    if (keys.length === 1 && !keys[0]?.includes('/')) return undefined;
    return keys.map((k) => k.slice(k.indexOf('/') + 1));
  }

  message(frame: string | Buffer): void {
    if (typeof frame !== 'string') return this.fail('frames must be text (JSON)');
    const parsed = parseAction(frame, this.shared.maxTopics);
    if ('error' in parsed) return this.fail(parsed.error);
    this.turn = this.turn.then(() => this.switchTo(parsed.action));
    this.guard(this.turn, 'switch site', (error) =>
      this.shared.log('switching site failed', error),
    );
  }

  private keys(): string[] {
    return this.shared.hub.topicsOf(this.session, DATASTREAM_FAMILY);
  }

  /** Follows a site; `since`: first resuming from that entry (a reconnect, not a switch). */
  private async switchTo(next: SiteAction, since?: string): Promise<boolean> {
    const { hub } = this.shared;
    const joined = this.keys();
    const topics = 'topics' in next ? next.topics : joined.length > 0 ? this.topics() : [];
    if (!(await this.shared.allowed({ client: this, action: 'subscribe', channel: next.site }))) {
      this.fail(`not allowed to subscribe to site ${next.site}`);
      return false;
    }
    if (this.session.closed) return false;
    const keys = topicKeys(next.site, topics);
    for (const key of keys) {
      const refused = hub.topicRefusal(DATASTREAM_FAMILY, key);
      if (refused) {
        this.fail(refused.message);
        return false;
      }
    }
    for (const key of this.keys()) hub.leave(this.session, DATASTREAM_FAMILY, key);
    this.wanted = next.site;
    if (since !== undefined) {
      await this.resume(next.site, topics, keys, since);
      return true;
    }
    for (const key of keys) hub.join(this.session, DATASTREAM_FAMILY, key);
    this.reply(`Subscribed to site ${next.site}`);
    return true;
  }

  /**
   * Joins a reconnecting client held (the hub keeps what its topics get), reads
   * what it missed after `since` from the site history, up to the last entry
   * this instance delivered, then releases it: a `recovered:false` control
   * when it cannot be given everything, the reply, the missed entries, what
   * arrived while it was held, then live — no duplicate, no gap.
   */
  private async resume(
    site: string,
    topics: readonly string[] | undefined,
    keys: readonly string[],
    since: string,
  ): Promise<void> {
    const held: HeldJoin<Outgoing>[] = [];
    for (const key of keys) {
      const join = this.shared.hub.hold<Outgoing>(this.session, DATASTREAM_FAMILY, key);
      if (join) held.push(join);
    }
    const resumed = await this.missedSince(site, since);
    if (this.session.closed) return;
    const { counts } = this.shared;
    if (resumed.recovered) counts.recovered++;
    else {
      counts.unrecovered++;
      this.session.sendText(
        controlMessage(`the messages after ${since} cannot be recovered: ${resumed.reason}`, {
          recovered: false,
        }),
      );
    }
    this.session.sendText(
      controlMessage(
        `Subscribed to site ${site}`,
        resumed.recovered ? { recovered: true } : undefined,
      ),
    );
    const missed: Outgoing[] = [];
    for (const e of resumed.recovered ? resumed.entries : []) {
      const topic = frameTopic(e.frame) ?? '';
      if (!topics || topics.includes(topic))
        missed.push(outgoing({ site, topic, id: e.id, frame: e.frame }));
    }
    // What was held was delivered after upTo was read: all of it is new to the
    // client but an older entry delivered again (a claim), which the replay covers.
    const upTo = resumed.upTo;
    const keep = upTo === undefined ? () => true : (m: Outgoing) => compareEntryIds(m.id, upTo) > 0;
    // The missed entries go on one of its topics: each is in one, and once.
    held.forEach((join, i) => join.release(i === 0 ? missed : [], keep));
  }

  /** What the site history holds after `since`, up to what this instance has delivered. */
  private async missedSince(site: string, since: string): Promise<Resumed> {
    const { history, delivered, max, catchUpMs, scheduler } = this.shared.recovery;
    // A client that got further on another instance: what this one delivers up
    // to `since` meanwhile is held, and dropped as covered, once it catches up.
    if (!(await delivered.reached(since, catchUpMs, scheduler)))
      return { recovered: false, reason: 'this server has not caught up with it' };
    const upTo = delivered.last as string;
    try {
      const recovery = await history.since(site, since, upTo, max);
      return recovery.recovered ? { ...recovery, upTo } : recovery;
    } catch (err) {
      this.shared.log('reading the site history failed', String(err));
      return { recovered: false, reason: 'the history could not be read' };
    }
  }
}
