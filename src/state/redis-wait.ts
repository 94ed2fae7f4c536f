/**
 * Waiting for Redis at start: one clear log line per attempt instead of a crash loop, and the two ways
 * it ends badly told apart — unreachable (transient: keep waiting or retry later) and refused
 * (credentials or certificates: waiting will not help, the config must change).
 */
import type { Cluster } from 'ioredis';
import { ClawmedicError } from '../domain/errors.js';
import type { Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';
import { ClawmedicCluster, clusterOptions, connectionOptions, describeRedis, newRedis, type ClusterTarget, type RedisTlsOptions } from './redis.js';

/** Redis could not be reached. Transient by nature. */
export class RedisUnavailableError extends ClawmedicError {
  constructor(url: string, reason: string, extra: RedisTlsOptions = {}) {
    super(`Redis at ${describeRedis(url, extra)} is unreachable (${reason}).`, 'REDIS_UNAVAILABLE', true);
  }
}

/** Redis answered but refused the credentials or the certificate: waiting will not help, the config must change. */
export class RedisAccessError extends ClawmedicError {
  constructor(url: string, reason: string, extra: RedisTlsOptions = {}) {
    super(
      `Redis at ${describeRedis(url, extra)} refused the connection: ${reason}. ` +
        (extra.sentinel ? 'Check the user and password of REDIS_URL and REDIS_SENTINEL_PASSWORD.' : 'Check the user, password and TLS settings of REDIS_URL.'),
      'REDIS_ACCESS',
    );
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
    const probe = extra.cluster
      ? clusterProbe(url, extra.cluster)
      : newRedis(url, extra, {
          ...connectionOptions(url, extra),
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
          connectTimeout: 2000,
          // One pass over the sentinels per attempt; this loop does the waiting and the logging.
          ...(extra.sentinel ? { sentinelRetryStrategy: () => null, failoverDetector: false } : {}),
        });
    // The socket error (ECONNREFUSED, ENOTFOUND...) says more than ioredis' "Connection is closed"; on a Cluster the
    // last node's error is carried by "Failed to refresh slots cache".
    let socketError: string | undefined;
    probe.on('error', (e: NodeJS.ErrnoException & { lastNodeError?: NodeJS.ErrnoException }) => {
      const cause = e.lastNodeError ?? e;
      socketError ??= cause.code ?? cause.message;
    });
    try {
      await withDeadline(probe.connect(), PROBE_DEADLINE_MS);
      await withDeadline(probe.ping(), PROBE_DEADLINE_MS);
      probe.disconnect();
      return;
    } catch (err) {
      probe.disconnect();
      const message = err instanceof Error ? err.message : String(err);
      if (ACCESS_ERROR_RE.test(message)) throw new RedisAccessError(url, redact(message.split('\n')[0]!), extra);
      if (socketError && ACCESS_ERROR_RE.test(socketError)) throw new RedisAccessError(url, redact(socketError), extra);
      const reason = redact(socketError ?? (err as NodeJS.ErrnoException).code ?? message);
      if (Date.now() - started + delay > maxWaitMs) throw new RedisUnavailableError(url, reason, extra);
      logger.warn(`Redis at ${describeRedis(url, extra)} is unreachable (${reason}); retrying in ${Math.round(delay / 1000)} s`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  }
}

/** One attempt of waitForRedis never takes longer (a Cluster whose ready check fails neither connects nor rejects). */
const PROBE_DEADLINE_MS = 5000;

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** One pass over the cluster's seed nodes: slot map, `cluster_state:ok`, then PING; waitForRedis does the waiting. */
function clusterProbe(url: string, target: ClusterTarget): Cluster {
  const o = clusterOptions(url, 'producer');
  return new ClawmedicCluster(target.nodes, {
    ...o,
    redisOptions: { ...o.redisOptions, maxRetriesPerRequest: 0, connectTimeout: 2000 },
    lazyConnect: true,
    clusterRetryStrategy: () => null,
  });
}

