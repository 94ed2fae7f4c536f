/**
 * The process logger (pino). Every string that goes through it is redacted first, so a
 * secret that slipped into an error message still never reaches a log line.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { redact, redactDeep } from './redact.js';

export type { Logger };

/** Create the root logger; `level` from LOG_LEVEL, default info (silent under vitest unless LOG_LEVEL is set). */
export function createLogger(level = process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'), destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { app: 'clawmedic' },
    // Errors are already plain, redacted { type, message, stack } (redactDeep); pino's own serializer would re-type them.
    serializers: { err: (e: unknown) => e },
    hooks: {
      // Redact every argument before pino formats it, walking objects (nested JSON, errors, secret-named keys)
      // rather than serializing and parsing back: that both missed nested secrets and could throw mid-log.
      logMethod(args, method) {
        const cleaned = args.map((a) => {
          if (typeof a === 'string') return redact(a);
          if (a instanceof Error) return { err: redactDeep(a) };
          return redactDeep(a);
        });
        method.apply(this, cleaned as Parameters<typeof method>);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
