// The Ruby streamer's cleanup endpoints: a page that is done with a stream tells
// the server so, for networks that hide disconnects. A request must prove that
// the streams are its own: a page opens its streams with `?cleanup=<token>`, a
// secret it chose (16–128 letters, digits, "-" or "_"), and cleanup closes only
// the streams opened with the token it sends. Neither a shared IP, a forged
// X-Forwarded-For nor another site's page (a simple cross-origin POST) can
// know it. Matching by client IP alone, as the Ruby streamer did, stays
// available behind CLEANUP_BY_IP.
import { Router } from 'express';
import type { Request, Response } from 'express';
import { StreamerError } from '../../core/errors.js';
import type { Connection } from '../../fanout/Connection.js';
import type { Hub } from '../../fanout/Hub.js';
import type { StreamRequest } from '../../transports/http/StreamRequest.js';
import { requestFromIncoming } from '../../transports/http/StreamRequest.js';
import { validateEmojiId } from './emojiId.js';

const PATHS = ['/subscribe/cleanup/scores', '/subscribe/cleanup/details/:id'];
const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

/** The token a request carries (`?cleanup=` or `X-Cleanup-Token`), checked; undefined when none. */
export function cleanupTokenOf(request: StreamRequest): string | undefined {
  const token = request.query.get('cleanup') ?? request.header('x-cleanup-token');
  if (token === undefined || token === null) return undefined;
  if (TOKEN.test(token)) return token;
  throw new StreamerError(
    'RXS_ERR_BAD_REQUEST',
    'a cleanup token is 16 to 128 letters, digits, "-" or "_"',
    400,
  );
}

/** The streams opened with a cleanup token, by token; each leaves when it ends. */
export class CleanupOwners {
  private readonly byToken = new Map<string, Set<Connection>>();

  claim(token: string, connection: Connection): void {
    let owned = this.byToken.get(token);
    if (!owned) this.byToken.set(token, (owned = new Set()));
    owned.add(connection);
    connection.whenEnded(() => {
      owned.delete(connection);
      if (owned.size === 0 && this.byToken.get(token) === owned) this.byToken.delete(token);
    });
  }

  /** The streams opened with `token` that `match`. */
  find(token: string, match: (c: Connection) => boolean): Connection[] {
    return [...(this.byToken.get(token) ?? [])].filter(match);
  }
}

export interface CleanupOptions {
  /** The Ruby streamer's matching: a request without a token closes its IP's streams. */
  readonly byIp: boolean;
}

export function emojitrackCleanup(
  hub: Hub,
  owners: CleanupOwners,
  options: CleanupOptions,
): Router {
  const router = Router();
  const closeOwn = (req: Request, res: Response, match: (c: Connection) => boolean) => {
    const request = requestFromIncoming(req);
    const token = cleanupTokenOf(request);
    let streams: Connection[];
    if (token !== undefined) {
      streams = owners.find(token, match);
    } else if (options.byIp) {
      // The same address normalisation as the streams themselves (proxy-aware, no ::ffff:).
      const ip = request.clientIp;
      streams = hub.find((c) => c.info.clientIp === ip && match(c));
    } else {
      throw new StreamerError(
        'RXS_ERR_BAD_REQUEST',
        'cleanup closes the streams opened with ?cleanup=<token>: send that token (?cleanup= or X-Cleanup-Token); CLEANUP_BY_IP=true matches by client IP instead',
        400,
      );
    }
    for (const c of streams) c.end();
    res.json({ status: 'OK', closed: streams.length });
  };
  router.post('/subscribe/cleanup/scores', (req, res) => {
    closeOwn(req, res, (c) => hub.isIn(c, 'eps'));
  });
  router.post('/subscribe/cleanup/details/:id', (req: Request<{ id: string }>, res) => {
    const id = validateEmojiId(req.params.id);
    closeOwn(req, res, (c) => hub.isIn(c, 'details', id));
  });
  router.all(PATHS, (req, res) => {
    res.setHeader('Allow', 'POST');
    throw new StreamerError('RXS_ERR_METHOD', `${req.method} ${req.path}: use POST`, 405);
  });
  return router;
}
