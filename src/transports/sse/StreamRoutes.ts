// The table of SSE endpoints. A protocol adds a resolver from a request to the
// stream it opens; guards added to the table check every stream request first.
// The front door consults the table for streams answered on the bare socket; an
// express handler serves the same streams for requests the front door leaves to
// the HTTP server (HEAD, HTTP/1.0, a request on a connection that already carried
// another). Both read one table, and a request is resolved once: what the front
// door resolved and could not answer itself (an error, say) goes to express with
// the request, and express answers that outcome.
import type { Socket } from 'node:net';
import type { RequestHandler } from 'express';
import { clientAddress, trustFunction } from '../http/clientAddress.js';
import type { TrustProxy } from '../http/clientAddress.js';
import type { FrontDoorOptions } from '../http/frontDoor.js';
import { requestFromHead, requestFromIncoming } from '../http/StreamRequest.js';
import type { StreamRequest } from '../http/StreamRequest.js';
import type { SseStream, SseTransport } from './SseTransport.js';

type MaybeAsync<T> = T | Promise<T>;

/**
 * The stream a request opens, or undefined when the request is not this
 * resolver's. Throws (or rejects with) a StreamerError for a request it refuses
 * (a bad id, a disabled stream, a bad token). May be asynchronous.
 */
export type StreamResolver = (request: StreamRequest) => MaybeAsync<SseStream | undefined>;

/** Checks every stream request before it is resolved; throws a StreamerError to refuse it. */
export type StreamGuard = (request: StreamRequest) => MaybeAsync<void>;

interface Outcome {
  readonly target: string;
  readonly stream?: SseStream | undefined;
  readonly error?: unknown;
}

export interface StreamRouteOptions {
  /** Only this very path, even one ending in "/" (the site root). */
  readonly exact?: boolean;
}

interface Route {
  readonly path: string;
  /** Serves every path under `path`, not just `path`. */
  readonly prefix: boolean;
  readonly resolve: StreamResolver;
}

export class StreamRoutes {
  private readonly routes: Route[] = [];
  private readonly guards: StreamGuard[] = [];
  /** What the front door resolved for a request it then handed to the HTTP server. */
  private readonly resolved = new WeakMap<Socket, Outcome>();

  /**
   * Adds the stream at a path (`/subscribe/hearts`), or the streams under a
   * prefix ending in "/" (`/subscribe/`) unless `exact`, resolved in the order added.
   */
  add(path: string, resolve: StreamResolver, options: StreamRouteOptions = {}): void {
    if (!path.startsWith('/')) throw new Error(`a stream path starts with "/", not "${path}"`);
    this.routes.push({ path, prefix: path.endsWith('/') && !options.exact, resolve });
  }

  /** Adds a check run on every stream request, on every path that serves it. */
  guard(check: StreamGuard): void {
    this.guards.push(check);
  }

  /**
   * The stream for a request: undefined for a path no route serves; the
   * guards, then the matching resolvers in order. Synchronous when they all are.
   */
  resolve(request: StreamRequest): MaybeAsync<SseStream | undefined> {
    const path = request.path;
    const matching = this.routes.filter((r) =>
      r.prefix ? path.startsWith(r.path) : path === r.path,
    );
    if (matching.length === 0) return undefined;
    const next = (i: number): MaybeAsync<SseStream | undefined> => {
      const route = matching[i];
      if (!route) return undefined;
      return then(route.resolve(request), (stream) => stream ?? next(i + 1));
    };
    const guarded = (i: number): MaybeAsync<SseStream | undefined> => {
      const check = this.guards[i];
      if (!check) return next(0);
      return then(check(request), () => guarded(i + 1));
    };
    return guarded(0);
  }

  /** Serves GET and HEAD of the streams through express. */
  handler(transport: SseTransport): RequestHandler {
    return (req, res, next) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return next();
      const request = requestFromIncoming(req);
      const stored = this.resolved.get(req.socket);
      let outcome: MaybeAsync<SseStream | undefined>;
      if (stored && stored.target === req.originalUrl) {
        this.resolved.delete(req.socket);
        if (stored.error !== undefined) return next(stored.error);
        outcome = stored.stream;
      } else {
        try {
          outcome = this.resolve(request);
        } catch (err) {
          return next(err);
        }
      }
      const answer = (stream: SseStream | undefined) => {
        if (!stream) return next();
        const refused = transport.refusal(request, stream);
        if (refused) return next(refused);
        transport.open(req, res, request, stream);
      };
      if (outcome instanceof Promise) outcome.then(answer, next);
      else answer(outcome);
    };
  }

  /** What the front door needs to answer the streams on bare sockets. */
  frontDoor(transport: SseTransport, trustProxy: TrustProxy): FrontDoorOptions {
    const trust = trustFunction(trustProxy);
    return {
      // An exact path is followed by the end of the target or its query.
      prefixes: this.routes.flatMap((r) =>
        r.prefix ? [`GET ${r.path}`] : [`GET ${r.path} `, `GET ${r.path}?`],
      ),
      take: (head, socket, release) => {
        // A client that reset before its head was read has no address any more:
        // it is gone, and nothing is resolved or created for it.
        if (socket.destroyed || socket.remoteAddress === undefined) {
          socket.destroy();
          return true;
        }
        const request = requestFromHead(
          head,
          clientAddress(socket, head.headers.get('x-forwarded-for'), trust),
        );
        const leave = (outcome: Omit<Outcome, 'target'>) => {
          this.resolved.set(socket, { target: head.target, ...outcome });
          return false;
        };
        const open = (stream: SseStream | undefined): boolean => {
          if (!stream) return leave({ stream });
          const refused = transport.refusal(request, stream);
          if (refused) return leave({ error: refused });
          // Gone while its stream was being resolved: nothing to answer.
          if (socket.destroyed || !socket.writable) return true;
          const connection = transport.openOnSocket(socket, request, stream, release);
          return connection !== undefined || leave({ stream });
        };
        let outcome: MaybeAsync<SseStream | undefined>;
        try {
          outcome = this.resolve(request);
        } catch (error) {
          return leave({ error });
        }
        if (!(outcome instanceof Promise)) return open(outcome);
        return outcome.then(open, (error: unknown) => leave({ error }));
      },
    };
  }
}

/** `f(value)`, at once when the value is at hand, after it when it is a promise. */
function then<T, U>(value: MaybeAsync<T>, f: (v: T) => MaybeAsync<U>): MaybeAsync<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}
