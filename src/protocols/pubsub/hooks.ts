// The pub/sub server's extension points, as typed values an application passes
// to pubsubProtocol(): who may subscribe and publish (authenticators, failing
// closed), what happens to client publishes (push traps, RxJS operators in
// order), what runs when clients come and go (openings, closings), frames that
// are not actions (receivers), and sources that feed channels (monitors).
import type { Observable, OperatorFunction } from 'rxjs';
import type { SessionRequest } from '../../core/session.js';
import type {
  AuthRequest as SharedAuthRequest,
  Authenticator as SharedAuthenticator,
  ChannelAuthenticator as SharedChannelAuthenticator,
} from '../authorize.js';

/** The request a client connected with (any transport), for authenticators and openings. */
export type ClientRequest = SessionRequest;

/** One connected client, as the hooks see it. */
export interface PubsubClient {
  /** Unique in this process. */
  readonly id: string;
  readonly request: ClientRequest;
  /** The channels it is subscribed to now. */
  channels(): readonly string[];
  /** Sends this client alone a frame (any JSON value). */
  send(frame: unknown): void;
  /** Subscribes it, as its own subscribe would but with no authenticator (an opening's `echo`). */
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): void;
  /** Publishes to a channel, past the push traps: every instance's subscribers get it. */
  publish(channel: string, message: unknown): Promise<void>;
  /** Closes the connection (1000, or the code given). */
  close(code?: number, reason?: string): void;
}

/** What a pub/sub authenticator is asked. */
export type AuthRequest = SharedAuthRequest<PubsubClient>;

/**
 * Allows (true) or denies (false) an action. A throw, a rejection or no answer
 * within PUBSUB_AUTH_TIMEOUT_MS denies too: authenticators fail closed.
 */
export type Authenticator = SharedAuthenticator<PubsubClient>;

/** An authenticator for the channels matching a Redis glob pattern (`chat.*`). */
export type ChannelAuthenticator = SharedChannelAuthenticator<PubsubClient>;

/** A client's publish on its way to the bus. */
export interface ClientPublish {
  readonly client: PubsubClient;
  readonly channel: string;
  readonly message: unknown;
}

/**
 * A push trap: an operator over the stream of client publishes, applied in
 * order. It may change a publish (`map`), suppress it (`filter`), re-route it
 * (another `channel`), or emit more than one.
 */
export type PushTrap = OperatorFunction<ClientPublish, ClientPublish>;

/** Runs when a client connects, or (closings) when its connection ends, however it ended. */
export type ClientHook = (client: PubsubClient) => void | Promise<void>;

/**
 * Takes frames that are not one of the three actions. The first receiver whose
 * `match` accepts a frame (all do without one) handles it; what `handle`
 * returns or resolves to, unless undefined, is sent back to that client.
 */
export interface Receiver {
  readonly match?: (frame: unknown) => boolean;
  readonly handle: (frame: unknown, client: PubsubClient) => unknown;
}

/** A message a monitor puts on a channel, for this instance's subscribers. */
export interface ChannelMessage {
  readonly channel: string;
  readonly message: unknown;
}

/**
 * A source that feeds channels (a database's notifications, another bus). Every
 * instance runs its monitors, so what a monitor emits goes to the subscribers
 * of this instance only.
 */
export type Monitor = Observable<ChannelMessage>;

export interface PubsubHooks {
  /** Checked on subscribe and publish for the channels they match, in order, all of them. */
  readonly authenticators?: readonly ChannelAuthenticator[];
  /** Checked for channels no authenticator matches; absent: allowed. */
  readonly defaultAuthenticator?: Authenticator;
  readonly pushTraps?: readonly PushTrap[];
  readonly openings?: readonly ClientHook[];
  readonly closings?: readonly ClientHook[];
  readonly receivers?: readonly Receiver[];
  readonly monitors?: readonly Monitor[];
}

export { parseCookies } from '../../transports/http/cookies.js';
