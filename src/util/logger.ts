/**
 * The process logger (pino). Every string that goes through it is redacted first, so a
 * secret that slipped into an error message still never reaches a log line.
 */
import { pino, type Logger } from 'pino';
import { redact } from './redact.js';

export type { Logger };

/** Create the root logger; `level` from LOG_LEVEL, default info (silent under vitest unless LOG_LEVEL is set). */
export function createLogger(level = process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info')): Logger {
  return pino({
    level,
    base: { app: 'clawmedic' },
    hooks: {
      // Redact the message and any string/error argument before pino formats it.
      logMethod(args, method) {
        const cleaned = args.map((a) => {
          if (typeof a === 'string') return redact(a);
          if (a instanceof Error) return { err: { type: a.name, message: redact(a.message) } };
          if (a && typeof a === 'object') return JSON.parse(redact(JSON.stringify(a))) as unknown;
          return a;
        });
        method.apply(this, cleaned as Parameters<typeof method>);
      },
    },
  });
}
