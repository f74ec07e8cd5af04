import pino, { Logger } from 'pino';
import { RequestContext } from '../context/request-context';

/** Never written to a log, wherever they appear in a logged object. */
export const REDACTED_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'password',
  '*.password',
  'passwordHash',
  '*.passwordHash',
  'token',
  '*.token',
  '_csrf',
  '*._csrf',
];

/** Readable lines for a person at a terminal in development; JSON for everything else (production, files, pipes, tests). */
export function wantsPrettyLogs(where: { production: boolean; isTTY: boolean; destination?: unknown }): boolean {
  return !where.production && where.isTTY && where.destination === undefined;
}

/**
 * pino's `isoTime`, formatted once per millisecond: under load many lines share
 * a millisecond, and formatting the date was 1% of an anonymous request.
 */
export function isoTimeOncePerMillisecond(): () => string {
  let formattedAt = Number.NaN;
  let field = '';
  return () => {
    const now = Date.now();
    if (now !== formattedAt) {
      formattedAt = now;
      field = `,"time":"${new Date(now).toISOString()}"`;
    }
    return field;
  };
}

/** pino-pretty in a worker thread; it is a development dependency, absent from production installs. */
function prettyDestination(): pino.DestinationStream {
  return pino.transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } });
}

/**
 * The root pino logger: JSON lines, or pino-pretty when `pretty`; inside a
 * request every line carries its correlation and user ids.
 */
export function createRootLogger(level: string, destination?: pino.DestinationStream, pretty = false): Logger {
  return pino(
    {
      level,
      timestamp: isoTimeOncePerMillisecond(),
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      mixin: () => {
        const correlationId = RequestContext.correlationId();
        if (!correlationId) return {};
        const userId = RequestContext.userId();
        return userId ? { correlationId, userId } : { correlationId };
      },
    },
    pretty ? prettyDestination() : destination,
  );
}
