// One error class for everything the server reports: a stable code, a message
// that carries the offending value, and the HTTP status it maps to.

export type ErrorCode =
  | 'RXS_ERR_CONFIG'
  | 'RXS_ERR_BAD_ID'
  | 'RXS_ERR_NOT_FOUND'
  | 'RXS_ERR_METHOD'
  | 'RXS_ERR_DISABLED'
  | 'RXS_ERR_BAD_REQUEST'
  | 'RXS_ERR_UNAUTHORIZED'
  | 'RXS_ERR_FORBIDDEN'
  | 'RXS_ERR_TOO_LARGE'
  | 'RXS_ERR_MEDIA_TYPE'
  | 'RXS_ERR_UNAVAILABLE'
  | 'RXS_ERR_INTERNAL';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export class StreamerError extends Error {
  override readonly name = 'StreamerError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status = 500,
    /** Headers the answer carries (`Retry-After` on a 503, `WWW-Authenticate` on a 401). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  /** The JSON body sent to HTTP clients, shaped like fastify's error replies. */
  toJSON(): { statusCode: number; code: ErrorCode; error: string; message: string } {
    return {
      statusCode: this.status,
      code: this.code,
      error: REASONS[this.status] ?? 'Error',
      message: this.message,
    };
  }
}
