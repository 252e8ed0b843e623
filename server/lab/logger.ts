import { pino, type Logger } from 'pino';

/** Structured JSON logs. Secrets are redacted by key wherever they appear. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({
    level,
    base: { service: 'data-lab' },
    redact: {
      paths: ['password', '*.password', 'req.headers.cookie', 'req.headers.authorization', '*.url', 'url', 'adminUrl', '*.adminUrl'],
      censor: '[redacted]',
    },
  }, destination);
}
