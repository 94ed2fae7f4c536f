/**
 * Redis connections for clawmedic. Workers block on Redis and need maxRetriesPerRequest: null
 * (BullMQ's rule); producers keep a small finite value so enqueueing fails fast while Redis is
 * gone and the user gets "cannot reach Redis" instead of a hang.
 */
import { Redis } from 'ioredis';
import { ClawmedicError } from '../domain/errors.js';
import type { Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';

export type RedisRole = 'worker' | 'producer' | 'subscriber';

/** Create a connection for `role` to `url`. */
export function createRedis(url: string, role: RedisRole): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: role === 'producer' ? 2 : null,
    // Reconnect forever with a capped backoff: a Redis restart must not kill the bot.
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 5), 5000),
    connectionName: `clawmedic-${role}`,
    lazyConnect: false,
  });
}

/** Redis could not be reached. Transient by nature. */
export class RedisUnavailableError extends ClawmedicError {
  constructor(url: string, reason: string) {
    super(`Redis at ${redact(url)} is unreachable (${reason}).`, 'REDIS_UNAVAILABLE', true);
  }
}

/**
 * Wait until Redis answers PING, logging one clear line per attempt (no crash loop).
 * Gives up after `maxWaitMs` (Infinity for the long-running bot) with RedisUnavailableError.
 */
export async function waitForRedis(url: string, logger: Logger, maxWaitMs: number): Promise<void> {
  const started = Date.now();
  let delay = 500;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
    // The socket error (ECONNREFUSED, ENOTFOUND...) says more than ioredis' "Connection is closed".
    let socketError: string | undefined;
    probe.on('error', (e: NodeJS.ErrnoException) => {
      socketError ??= e.code ?? e.message;
    });
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return;
    } catch (err) {
      probe.disconnect();
      const reason = socketError ?? (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
      if (Date.now() - started + delay > maxWaitMs) throw new RedisUnavailableError(url, reason);
      logger.warn(`Redis at ${redact(url)} is unreachable (${reason}); retrying in ${Math.round(delay / 1000)} s`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  }
}
