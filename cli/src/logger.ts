import { type DestinationStream, type Level, pino } from 'pino';

/**
 * Where a secret could sit in a logged object: request headers (a bearer key), and the keys and tokens of
 * the settings. Request lines never log headers; this is the net under a future `logger.info({ req })`.
 */
const SECRET_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'adminKey',
  'ingestKey',
  'metricsToken',
  '*.adminKey',
  '*.ingestKey',
  '*.metricsToken',
];

/**
 * The server's JSON logger (pino): one object per line on `destination` (stderr by default), secrets
 * censored.
 * @example const logger = createLogger('info'); logger.info({ port }, 'listening');
 */
export function createLogger(level: Level | 'silent', destination: DestinationStream = pino.destination(2)) {
  return pino({ level, redact: { paths: SECRET_PATHS, censor: '[redacted]' } }, destination);
}
