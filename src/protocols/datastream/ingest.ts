// `POST <path>/messages`: services enqueue `{site, topic, data}` over HTTP. The
// body is checked as the reader would check the entry, so a message the POST
// took is never a dead letter; 202 answers with the stream entry id.
import type { RequestHandler, Router } from 'express';
import { StreamerError } from '../../core/errors.js';
import { bearerKey } from '../../transports/http/bearerKey.js';
import { jsonBody } from '../../transports/http/jsonBody.js';
import type { Logger } from '../../core/logger.js';
import type { QueueStore } from '../../sources/QueueStore.js';
import { bodyFields } from './wire.js';

export interface IngestOptions {
  readonly path: string;
  readonly store: QueueStore;
  readonly maxBytes: number;
  /** When set, requests need `Authorization: Bearer <key>`. */
  readonly apiKey: string | undefined;
  readonly logger: Logger;
  /** Told of each message enqueued. */
  readonly enqueued: () => void;
}

export function mountIngest(router: Router, options: IngestOptions): void {
  const { store, maxBytes, apiKey, logger } = options;

  const authorize = bearerKey(apiKey, 'datastream', 'DATASTREAM_API_KEY');

  const enqueue: RequestHandler = (req, res, next) => {
    const read = bodyFields(req.body);
    if ('problem' in read) return next(new StreamerError('RXS_ERR_BAD_REQUEST', read.problem, 400));
    // What is stored is what is checked: `data` as its JSON text again can be
    // longer than it was sent (`9e20` is 21 characters once written out).
    const stored = Object.values(read.fields).reduce((n, v) => n + Buffer.byteLength(v), 0);
    if (stored > maxBytes)
      return next(
        new StreamerError(
          'RXS_ERR_TOO_LARGE',
          `a message has at most ${maxBytes} bytes as stored; this one has ${stored}`,
          413,
        ),
      );
    store.enqueue(read.fields).then(
      (id) => {
        options.enqueued();
        res.status(202).json({ id });
      },
      (err: unknown) => {
        logger.warn('enqueueing a message failed', { error: String(err) });
        next(
          new StreamerError('RXS_ERR_UNAVAILABLE', 'the queue is not available; try again', 503),
        );
      },
    );
  };

  router.post(`${options.path}/messages`, authorize, ...jsonBody(maxBytes), enqueue);
}
