// One pub/sub client: reads its frames (subscribe, unsubscribe, publish, or
// anything else for the receivers), asks the authenticators, and answers with
// control frames. A subscribe is acknowledged with the channel's position, and
// one that brings a position gets what it missed first (recovery). It is the
// client the hooks see, too.
import type { Position } from '../../core/position.js';
import type { Session } from '../../core/session.js';
import { TokenBucket } from '../../core/TokenBucket.js';
import { after } from '../channelStart.js';
import type { ChannelStart } from '../channelStart.js';
import { ProtocolSession } from '../ProtocolSession.js';
import type { PubsubClient } from './hooks.js';
import type { PubsubService } from './PubsubService.js';
import { channelProblem, parseFrame, subscribed } from './wire.js';
import type { ClientAction } from './wire.js';

/** Channels of one client the status document lists by name (channels_total counts all). */
const LISTED = 32;

export class PubsubSession extends ProtocolSession implements PubsubClient {
  /** Its publishes a second (PUBSUB_PUBLISH_RATE), made at its first publish. */
  private publishing: TokenBucket | undefined;

  constructor(
    session: Session,
    private readonly service: PubsubService,
  ) {
    super(session, service.counts);
    const { hooks } = service;
    session.describe = () => {
      const channels = this.channels();
      return { channels: channels.slice(0, LISTED), channels_total: channels.length };
    };
    // Closings run however the session ended: a close frame, a reset, a dead peer.
    session.whenEnded(() => {
      for (const hook of hooks.closings ?? []) service.runHook('closing', () => hook(this));
    });
    for (const hook of hooks.openings ?? []) service.runHook('opening', () => hook(this));
  }

  channels(): readonly string[] {
    return this.service.channelsOf(this.session);
  }

  /** Subscribes it as its own subscribe would, but with no authenticator (an opening's echo). */
  async subscribe(channel: string): Promise<void> {
    const problem = channelProblem(channel);
    if (problem) throw new Error(problem);
    await this.join(channel);
  }

  unsubscribe(channel: string): void {
    this.service.leave(this.session, channel);
  }

  publish(channel: string, message: unknown): Promise<void> {
    return this.service.publishOut(channel, message);
  }

  /** Tells the client a publish it asked for did not reach the bus. */
  publishFailed(channel: string): void {
    if (!this.session.closed) this.fail(`publish to ${channel} failed; try again`);
  }

  message(frame: string | Buffer): void {
    this.service.counts.in++;
    if (typeof frame !== 'string') return this.fail('frames must be text (JSON)');
    const parsed = parseFrame(frame);
    if (parsed.kind === 'invalid') return this.fail(parsed.error);
    if (parsed.kind === 'action' && parsed.action.action === 'publish') {
      const refused = this.spend(Buffer.byteLength(frame));
      if (refused) return this.fail(refused);
    }
    // Each frame is handled on its own: a slow hook holds up no other frame or client.
    this.guard(
      parsed.kind === 'action' ? this.act(parsed.action) : this.receive(parsed.frame, parsed.error),
      'handle that frame',
      (error) => this.service.log('handling a pub/sub frame failed', error),
    );
  }

  /**
   * Takes a publish from the client's rate and its address's bytes: anonymous
   * clients publishing large messages as fast as they can would otherwise make
   * Redis cut this server's subscriber for its output buffer, for everyone.
   */
  private spend(bytes: number): string | undefined {
    const { publishRate } = this.service.config;
    const waiting = this.service.inFlightRefusal(this);
    if (waiting) return waiting;
    this.publishing ??= new TokenBucket(publishRate);
    if (!this.publishing.take())
      return `publishing too fast: at most ${publishRate} publishes a second (PUBSUB_PUBLISH_RATE); try again`;
    return this.service.spendAddress(this.request.ip, bytes);
  }

  private async act(action: ClientAction): Promise<void> {
    if (action.action === 'unsubscribe') {
      this.unsubscribe(action.channel);
      this.reply(`Unsubscribed from ${action.channel}`);
      return;
    }
    const request =
      action.action === 'publish'
        ? { client: this, action: action.action, channel: action.channel, message: action.message }
        : { client: this, action: action.action, channel: action.channel };
    if (!(await this.service.allowed(request))) {
      this.service.counts.denied++;
      const to = action.action === 'publish' ? 'to ' : '';
      this.fail(`not allowed to ${action.action} ${to}${action.channel}`);
      return;
    }
    if (this.session.closed) return;
    if (action.action === 'subscribe') await this.join(action.channel, action.recover);
    else this.service.trap({ client: this, channel: action.channel, message: action.message });
  }

  /**
   * Joins a channel and acknowledges once its subscription is live (a publish
   * after the reply arrives) with where it starts: the channel's top, or, from
   * `since`, what it missed, written right after the reply. Held until then,
   * so nothing that arrives meanwhile is lost or sent twice.
   */
  private async join(channel: string, since?: Position): Promise<boolean> {
    const refused = this.service.joinRefusal(this.session, channel);
    if (refused) {
      this.fail(refused);
      return false;
    }
    const held = this.service.hold(this.session, channel);
    if (!held) {
      this.fail(`subscribing to ${channel} was refused; try again later`);
      return false;
    }
    let start: ChannelStart | undefined;
    try {
      await this.service.live(channel);
    } catch {
      this.service.leave(this.session, channel);
      this.fail(`subscribing to ${channel} timed out; try again`);
      return false;
    }
    try {
      start = await this.service.start(channel, since);
    } catch (err) {
      this.service.leave(this.session, channel);
      this.service.log('reading a channel’s history failed', String(err));
      this.fail(`subscribing to ${channel} failed: its history could not be read; try again`);
      return false;
    }
    if (!this.service.isIn(this.session, channel)) return false;
    this.session.sendText(subscribed(channel, start));
    held.release(start?.missed ?? [], start ? after(start.top) : () => true);
    return true;
  }

  private async receive(frame: unknown, error: string): Promise<void> {
    const receiver = (this.service.hooks.receivers ?? []).find((r) => !r.match || r.match(frame));
    if (!receiver) return this.fail(error);
    const reply: unknown = await receiver.handle(frame, this);
    if (reply !== undefined) this.send(reply);
  }
}
