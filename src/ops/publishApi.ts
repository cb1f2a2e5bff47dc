// POST /api/publish: apps publish a message with history, so clients that
// reconnect get what they missed. The body is `{"channel","data"}` — the Redis
// channel itself (`room:1` reaches notification streams, `pubsub:chat` pub/sub
// channel `chat`), a string `data` published as it is and any other JSON as its
// JSON text; the answer is the message's position in the channel's history.
import { Router } from 'express';
import type { RequestHandler } from 'express';
import { StreamerError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { bearerKey } from '../transports/http/bearerKey.js';
import { jsonBody } from '../transports/http/jsonBody.js';
import type { ChannelHistory } from '../sources/channelHistory.js';
import { publishChannelProblem } from '../sources/publishWithHistory.js';

export interface PublishApiOptions {
  readonly history: ChannelHistory | undefined;
  readonly apiKey: string | undefined;
  /** The largest message (WS_MAX_FRAME_BYTES). */
  readonly maxBytes: number;
  readonly logger: Logger;
}

const PATH = '/api/publish';

export function publishApi(options: PublishApiOptions): Router {
  const router = Router();
  const { apiKey, history, maxBytes, logger } = options;

  const enabled: RequestHandler = (_req, _res, next) => {
    if (apiKey !== undefined && history !== undefined) return next();
    next(
      new StreamerError(
        'RXS_ERR_DISABLED',
        `${PATH} is disabled on this server: set PUBLISH_API_KEY (at least 16 characters) to enable it`,
        404,
      ),
    );
  };

  const authorize = bearerKey(apiKey, 'publish', 'PUBLISH_API_KEY');

  const publish: RequestHandler = (req, res, next) => {
    const body = req.body as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      return next(
        new StreamerError(
          'RXS_ERR_BAD_REQUEST',
          'the body must be a JSON object {"channel","data"}',
          400,
        ),
      );
    const { channel, data } = body as Record<string, unknown>;
    const problem =
      publishChannelProblem(channel) ??
      (data === undefined ? 'data is missing (any JSON value)' : undefined);
    if (problem) return next(new StreamerError('RXS_ERR_BAD_REQUEST', problem, 400));
    let payload: string;
    try {
      payload = typeof data === 'string' ? data : JSON.stringify(data);
    } catch {
      return next(new StreamerError('RXS_ERR_BAD_REQUEST', 'data is nested too deeply', 400));
    }
    if (Buffer.byteLength(payload) > maxBytes)
      return next(
        new StreamerError('RXS_ERR_TOO_LARGE', `a message has at most ${maxBytes} bytes`, 413),
      );
    (history as ChannelHistory).publish(channel as string, payload).then(
      (position) => res.json({ channel, epoch: position.epoch, offset: position.offset }),
      (err: unknown) => {
        logger.warn('publishing with history failed', { error: String(err) });
        next(
          new StreamerError('RXS_ERR_UNAVAILABLE', 'publishing is not available; try again', 503),
        );
      },
    );
  };

  router.post(PATH, enabled, authorize, ...jsonBody(maxBytes, maxBytes + 1024), publish);
  return router;
}
