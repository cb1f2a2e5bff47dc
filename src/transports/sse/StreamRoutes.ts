// The table of SSE endpoints. A protocol adds a resolver from a request path to
// the stream it opens. The front door consults the table for streams answered
// on the bare socket; an express handler serves the same streams for requests
// the front door leaves to the HTTP server (HEAD, HTTP/1.0, a request on a
// connection that already carried another). Both read one table, so both
// answer a path the same way.
import type { RequestHandler } from 'express';
import type { SseHub, SseOpenOptions } from '../../fanout/Hub.js';
import { pathOf } from './SseConnection.js';
import { clientAddress, trustFunction } from '../http/clientAddress.js';
import type { TrustProxy } from '../http/clientAddress.js';
import type { FrontDoorOptions } from '../http/frontDoor.js';

/**
 * The stream a path opens, or undefined when the path is not this resolver's.
 * Throws a StreamerError for a request it refuses (a bad id, a disabled stream).
 */
export type StreamResolver = (path: string) => SseOpenOptions | undefined;

export class StreamRoutes {
  private readonly routes: { readonly path: string; readonly resolve: StreamResolver }[] = [];

  /**
   * Adds the stream at a path (`/subscribe/hearts`), or the streams under a
   * prefix ending in "/" (`/subscribe/`), resolved in the order added.
   */
  add(path: string, resolve: StreamResolver): void {
    if (!path.startsWith('/')) throw new Error(`a stream path starts with "/", not "${path}"`);
    this.routes.push({ path, resolve });
  }

  resolve(path: string): SseOpenOptions | undefined {
    for (const route of this.routes) {
      const matches = route.path.endsWith('/') ? path.startsWith(route.path) : path === route.path;
      if (!matches) continue;
      const options = route.resolve(path);
      if (options) return options;
    }
    return undefined;
  }

  /** Serves GET and HEAD of the streams through express. */
  handler(hub: SseHub): RequestHandler {
    return (req, res, next) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return next();
      const options = this.resolve(pathOf(req.originalUrl));
      if (!options) return next();
      hub.open(req, res, options);
    };
  }

  /** What the front door needs to answer the streams on bare sockets. */
  frontDoor(hub: SseHub, trustProxy: TrustProxy): FrontDoorOptions {
    const trust = trustFunction(trustProxy);
    return {
      prefixes: this.routes.map((r) => `GET ${r.path}`),
      take: (head, socket, release) => {
        const requestPath = pathOf(head.target);
        let options: SseOpenOptions | undefined;
        try {
          options = this.resolve(requestPath);
        } catch {
          return false; // express answers it, with the error's status and JSON body
        }
        if (!options) return false;
        const connection = hub.openOnSocket(
          socket,
          {
            requestPath,
            clientIp: clientAddress(socket, head.headers.get('x-forwarded-for'), trust),
            userAgent: head.headers.get('user-agent') ?? '',
          },
          options,
          release,
        );
        return connection !== undefined;
      },
    };
  }
}
