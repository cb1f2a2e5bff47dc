// JSON answers for what no route handled (404) and for errors a route threw.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { StreamerError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';

export const notFound: RequestHandler = (req, _res, next) => {
  next(
    new StreamerError(
      'RXS_ERR_NOT_FOUND',
      `${req.method} ${req.path} is not a known endpoint`,
      404,
    ),
  );
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const known =
      err instanceof StreamerError
        ? err
        : isHttpError(err)
          ? new StreamerError('RXS_ERR_BAD_REQUEST', err.message, err.status)
          : undefined;
    if (!known) logger.error('request failed', { path: req.path, error: String(err) });
    const error = known ?? new StreamerError('RXS_ERR_INTERNAL', 'internal error', 500);
    for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
    res.status(error.status).json(error.toJSON());
  };
}

/** Errors from body parsers and the like carry a 4xx `status`. */
function isHttpError(err: unknown): err is Error & { status: number } {
  if (!(err instanceof Error)) return false;
  const status = (err as Error & { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500;
}
