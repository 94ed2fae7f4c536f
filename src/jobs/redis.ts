/**
 * Redis connections for clawmedic. Workers block on Redis and need maxRetriesPerRequest: null
 * (BullMQ's rule); producers keep a small finite value so enqueueing fails fast while Redis is
 * gone and the user gets "cannot reach Redis" instead of a hang.
 * Access to this Redis is access to the hosts' fix queue: the URL may carry a password
 * (`redis://:pw@host`), an ACL user (`redis://user:pw@host`) and TLS (`rediss://`, with an
 * optional private CA); every connection of the process is made with the same options.
 */
import net from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { ClawmedicError } from '../domain/errors.js';
import type { Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';

export type RedisRole = 'worker' | 'producer' | 'subscriber';

/** How to reach Redis besides the URL. */
export interface RedisTlsOptions {
  /** PEM of the CA that signed the server certificate (REDIS_TLS_CA_FILE); the system CAs otherwise. */
  tlsCa?: string;
}

/**
 * Auth and TLS options for `url`: user and password come from the URL (ioredis decodes them);
 * `rediss://` turns on TLS with certificate and host name checks (never disabled here).
 */
export function connectionOptions(url: string, extra: RedisTlsOptions = {}): RedisOptions {
  if (!/^rediss:\/\//i.test(url)) return {};
  const hostname = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return {
    tls: {
      ...(extra.tlsCa ? { ca: extra.tlsCa } : {}),
      // SNI only for names; an IP address is checked against the certificate's IP SANs.
      ...(net.isIP(hostname) ? {} : { servername: hostname }),
      rejectUnauthorized: true,
    },
  };
}

/** Create a connection for `role` to `url`. */
export function createRedis(url: string, role: RedisRole, extra: RedisTlsOptions = {}): Redis {
  return new Redis(url, {
    ...connectionOptions(url, extra),
    maxRetriesPerRequest: role === 'producer' ? 2 : null,
    // Reconnect forever with a capped backoff: a Redis restart must not kill the bot.
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 5), 5000),
    connectionName: `clawmedic-${role}`,
    lazyConnect: false,
  });
}

/** Where a URL points, without user or password: `rediss://redis.internal:6380`. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return redact(url);
  }
}

/** Redis could not be reached. Transient by nature. */
export class RedisUnavailableError extends ClawmedicError {
  constructor(url: string, reason: string) {
    super(`Redis at ${describeRedisUrl(url)} is unreachable (${reason}).`, 'REDIS_UNAVAILABLE', true);
  }
}

/** Redis answered but refused the credentials or the certificate: waiting will not help, the config must change. */
export class RedisAccessError extends ClawmedicError {
  constructor(url: string, reason: string) {
    super(`Redis at ${describeRedisUrl(url)} refused the connection: ${reason}. Check the user, password and TLS settings of REDIS_URL.`, 'REDIS_ACCESS');
  }
}

/** Errors that retrying cannot fix: auth (WRONGPASS, NOAUTH, NOPERM) and certificate checks. */
const ACCESS_ERROR_RE = /^(WRONGPASS|NOAUTH|NOPERM)\b|CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME|HOSTNAME_MISMATCH/;

/**
 * Wait until Redis answers PING, logging one clear line per attempt (no crash loop).
 * Gives up after `maxWaitMs` (Infinity for the long-running bot) with RedisUnavailableError.
 */
export async function waitForRedis(url: string, logger: Logger, maxWaitMs: number, extra: RedisTlsOptions = {}): Promise<void> {
  const started = Date.now();
  let delay = 500;
  for (;;) {
    const probe = new Redis(url, { ...connectionOptions(url, extra), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
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
      const message = err instanceof Error ? err.message : String(err);
      if (ACCESS_ERROR_RE.test(message)) throw new RedisAccessError(url, redact(message.split('\n')[0]!));
      if (socketError && ACCESS_ERROR_RE.test(socketError)) throw new RedisAccessError(url, redact(socketError));
      const reason = socketError ?? (err as NodeJS.ErrnoException).code ?? message;
      if (Date.now() - started + delay > maxWaitMs) throw new RedisUnavailableError(url, reason);
      logger.warn(`Redis at ${describeRedisUrl(url)} is unreachable (${reason}); retrying in ${Math.round(delay / 1000)} s`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  }
}
