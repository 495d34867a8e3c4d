import pino from 'pino';

export type Logger = pino.Logger;

/**
 * The process logger: JSON lines; secrets and tokens are redacted wherever they appear.
 * `destination` (default stdout) lets tests read exactly what production would write.
 */
export function createLogger(level: string = process.env['LOG_LEVEL'] ?? 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: {
      paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'admissionToken', '*.admissionToken', 'secret', '*.secret'],
      censor: '[redacted]',
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

export const silentLogger: Logger = pino({ level: 'silent' });
