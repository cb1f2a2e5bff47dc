// Structured JSON logs to stdout through winston; each component takes a child
// logger so every line says where it came from.
import winston from 'winston';

export type Logger = winston.Logger;
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'silent';

/** JSON lines on stdout from `level` up, each with `defaultMeta` (`{ node }`, say). */
export function createLogger(
  level: LogLevel = 'info',
  defaultMeta: Record<string, unknown> = {},
): Logger {
  return winston.createLogger({
    level: level === 'silent' ? 'error' : level,
    silent: level === 'silent',
    defaultMeta,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

/** A logger that writes nothing: `createStreamer({ …, logger: silentLogger })` for tests. */
export const silentLogger: Logger = createLogger('silent');
