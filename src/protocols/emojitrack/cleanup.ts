// The Ruby streamer's cleanup endpoints: a page that is done with a stream tells
// the server so, for networks that hide disconnects. Only the caller's own
// streams (same client IP) are closed, so nobody can close anyone else's.
import { Router } from 'express';
import type { Request, Response } from 'express';
import { StreamerError } from '../../core/errors.js';
import type { Connection } from '../../fanout/Connection.js';
import type { Hub } from '../../fanout/Hub.js';
import { requestFromIncoming } from '../../transports/http/StreamRequest.js';
import { validateEmojiId } from './streams.js';

const PATHS = ['/subscribe/cleanup/scores', '/subscribe/cleanup/details/:id'];

export function emojitrackCleanup(hub: Hub): Router {
  const router = Router();
  const closeOwn = (req: Request, res: Response, match: (c: Connection) => boolean) => {
    // The same address normalisation as the streams themselves (proxy-aware, no ::ffff:).
    const ip = requestFromIncoming(req).clientIp;
    const streams = hub.find((c) => c.info.clientIp === ip && match(c));
    for (const c of streams) c.end();
    res.json({ status: 'OK', closed: streams.length });
  };
  router.post('/subscribe/cleanup/scores', (req, res) => {
    closeOwn(req, res, (c) => c.isIn('eps'));
  });
  router.post('/subscribe/cleanup/details/:id', (req: Request<{ id: string }>, res) => {
    const id = validateEmojiId(req.params.id);
    closeOwn(req, res, (c) => c.isIn('details', id));
  });
  router.all(PATHS, (req, res) => {
    res.setHeader('Allow', 'POST');
    throw new StreamerError('RXS_ERR_METHOD', `${req.method} ${req.path}: use POST`, 405);
  });
  return router;
}
