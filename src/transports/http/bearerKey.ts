// A POST API's bearer key: `Authorization: Bearer <key>` compared through
// hashes, a 401 with `WWW-Authenticate` and the variable to set otherwise. No
// key configured lets every request through.
import type { RequestHandler } from 'express';
import { StreamerError } from '../../core/errors.js';
import { sameSecret } from '../../core/sameSecret.js';

export function bearerKey(
  key: string | undefined,
  realm: string,
  variable: string,
): RequestHandler {
  return (req, res, next) => {
    if (key === undefined) return next();
    const header = req.headers.authorization ?? '';
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (presented !== undefined && sameSecret(presented, key)) return next();
    res.setHeader('WWW-Authenticate', `Bearer realm="${realm}"`);
    next(
      new StreamerError(
        'RXS_ERR_UNAUTHORIZED',
        header ? 'the bearer key is not valid' : `Authorization: Bearer <${variable}> is required`,
        401,
      ),
    );
  };
}
