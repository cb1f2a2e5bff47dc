// One site-stream client: it follows one site (all its topics, or some), joined
// in the hub only once an authenticator allowed it, and may switch with
// `updatesubscribersite`. Its site and topics are what the hub has it in; it
// is the client the hooks see, too.
import type { Hub } from '../../fanout/Hub.js';
import type { Session } from '../../core/session.js';
import type { AuthRequest } from '../authorize.js';
import { ProtocolSession } from '../ProtocolSession.js';
import type { SessionCounts } from '../ProtocolSession.js';
import type { SiteClient } from './hooks.js';
import { parseAction } from './wire.js';
import type { SiteAction } from './wire.js';

/** The hub family of the site streams: topic `<site>` for every topic, `<site>/<topic>` for one. */
export const DATASTREAM_FAMILY = 'datastream';

/** The close code of a client whose first site is not allowed (a policy violation). */
const WS_POLICY = 1008;

/** The hub topics of a site, narrowed to some of its topics or not. */
export const topicKeys = (site: string, topics: readonly string[] | undefined): string[] =>
  topics ? topics.map((t) => `${site}/${t}`) : [site];

/** What the sessions of one server share. */
export interface SiteSessions {
  readonly hub: Hub;
  readonly counts: SessionCounts;
  readonly maxTopics: number;
  readonly allowed: (request: AuthRequest<SiteClient>) => Promise<boolean>;
  readonly log: (message: string, error: string) => void;
}

export class SiteSession extends ProtocolSession implements SiteClient {
  /** The site asked for, until one is allowed (and joined). */
  private wanted: string;
  /** Frames are handled in order, so a switch never overtakes the one before it. */
  private turn: Promise<unknown>;

  constructor(
    session: Session,
    private readonly shared: SiteSessions,
    first: SiteAction,
  ) {
    super(session, shared.counts);
    this.wanted = first.site;
    session.describe = () => {
      const topics = this.topics();
      return { site: this.site(), topics: topics ?? 'all', topics_total: topics?.length ?? 0 };
    };
    this.turn = this.switchTo(first).then((ok) => {
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

  private async switchTo(next: SiteAction): Promise<boolean> {
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
    for (const key of keys) hub.join(this.session, DATASTREAM_FAMILY, key);
    this.wanted = next.site;
    this.reply(`Subscribed to site ${next.site}`);
    return true;
  }
}
