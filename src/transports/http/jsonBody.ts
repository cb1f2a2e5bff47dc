// The JSON bodies of the server's POST APIs (site-stream ingest, publish), read
// one way: `application/json` only (415), at most `limitBytes` (413 saying
// `maxBytes`), valid JSON (400); any JSON value, not only objects.
import express from 'express';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { StreamerError } from '../../core/errors.js';

export function jsonBody(
  maxBytes: number,
  limitBytes = maxBytes,
): [RequestHandler, RequestHandler, ErrorRequestHandler] {
  const jsonOnly: RequestHandler = (req, _res, next) => {
    if (req.is('application/json')) return next();
    next(new StreamerError('RXS_ERR_MEDIA_TYPE', 'Content-Type must be application/json', 415));
  };
  // The body parser's own errors, in the API's words.
  const bodyErrors: ErrorRequestHandler = (err: { type?: string }, _req, _res, next) => {
    if (err.type === 'entity.too.large')
      return next(
        new StreamerError('RXS_ERR_TOO_LARGE', `a message has at most ${maxBytes} bytes`, 413),
      );
    if (err.type === 'entity.parse.failed')
      return next(new StreamerError('RXS_ERR_BAD_REQUEST', 'the body is not valid JSON', 400));
    next(err);
  };
  return [jsonOnly, express.json({ limit: limitBytes, strict: false }), bodyErrors];
}
