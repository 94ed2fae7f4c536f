/**
 * Redis connections for clawmedic. Workers block on Redis and need maxRetriesPerRequest: null
 * (BullMQ's rule); producers keep a small finite value so enqueueing fails fast while Redis is
 * gone and the user gets "cannot reach Redis" instead of a hang.
 * Access to this Redis is access to the hosts' fix queue: the URL may carry a password
 * (`redis://:pw@host`), an ACL user (`redis://user:pw@host`) and TLS (`rediss://`, with an
 * optional private CA); every connection of the process is made here, with the same options —
 * with Redis Sentinel (`redis.sentinels` in the config) every one of them asks the sentinels for
 * the master and follows a failover, BullMQ's own duplicates included (ioredis copies the options).
 */
import net from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { ClawmedicError, ConfigError } from '../domain/errors.js';
import type { Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';

export type RedisRole = 'worker' | 'producer' | 'subscriber';

/** Redis Sentinel: where the sentinels are and which master group to ask them for. */
export interface SentinelTarget {
  sentinels: Array<{ host: string; port: number }>;
  /** The master group name (`sentinel monitor <name> …`). */
  name: string;
  /** The sentinels' own credentials (REDIS_SENTINEL_USERNAME / REDIS_SENTINEL_PASSWORD), when they require them. */
  sentinelUsername?: string;
  sentinelPassword?: string;
}

/** How to reach Redis besides the URL. */
export interface RedisTlsOptions {
  /** PEM of the CA that signed the server certificate (REDIS_TLS_CA_FILE); the system CAs otherwise. */
  tlsCa?: string;
  /** Reach the master through Redis Sentinel; the URL then supplies only user, password and database. */
  sentinel?: SentinelTarget;
}

/**
 * The connection target of an install: REDIS_URL alone, or REDIS_URL's credentials + the sentinels of
 * `redis.sentinels`. With Sentinel, a REDIS_URL that names a host must name the master group
 * (`redis://user:pw@mymaster/0`): a real address there would be a second, contradicting answer to
 * "where is Redis", so it is refused instead of silently ignored. TLS with Sentinel is not supported yet.
 */
export function redisTarget(
  redis: { sentinels?: Array<{ host: string; port: number }>; masterName?: string },
  secrets: { redisUrl: string; redisUrlSet?: boolean; redisTlsCa?: string; redisSentinelPassword?: string; redisSentinelUsername?: string },
): { url: string; extra: RedisTlsOptions } {
  if (!redis.sentinels || !redis.masterName) return { url: secrets.redisUrl, extra: { tlsCa: secrets.redisTlsCa } };
  const name = redis.masterName;
  if (secrets.redisUrlSet === false) {
    // Nothing in the environment: no credentials, database 0.
    return { url: `redis://${name}`, extra: { sentinel: sentinelOf(redis.sentinels, name, secrets) } };
  }
  let u: URL;
  try {
    u = new URL(secrets.redisUrl);
  } catch {
    throw new ConfigError('environment: REDIS_URL: expected redis://[user:password@]<master name>[/db] when redis.sentinels is set');
  }
  if (u.protocol === 'rediss:') {
    throw new ConfigError('environment: REDIS_URL: rediss:// (TLS) together with redis.sentinels is not supported yet; use redis:// through the sentinels, or TLS to one Redis without sentinels');
  }
  if (u.hostname !== name || u.port !== '') {
    throw new ConfigError(
      `environment: REDIS_URL: names ${describeRedisUrl(secrets.redisUrl)} while redis.sentinels is set (the sentinels say where the master is). ` +
        `Write REDIS_URL as redis://[user:password@]${name}[/db] (the host part is the master name) or leave it unset.`,
    );
  }
  return { url: secrets.redisUrl, extra: { sentinel: sentinelOf(redis.sentinels, name, secrets) } };
}

function sentinelOf(
  sentinels: Array<{ host: string; port: number }>,
  name: string,
  secrets: { redisSentinelPassword?: string; redisSentinelUsername?: string },
): SentinelTarget {
  return {
    sentinels: sentinels.map((x) => ({ host: x.host, port: x.port })),
    name,
    ...(secrets.redisSentinelUsername ? { sentinelUsername: secrets.redisSentinelUsername } : {}),
    ...(secrets.redisSentinelPassword ? { sentinelPassword: secrets.redisSentinelPassword } : {}),
  };
}

/**
 * Auth and TLS options for `url`: user and password come from the URL (ioredis decodes them);
 * `rediss://` turns on TLS with certificate and host name checks (never disabled here).
 * With Sentinel: the URL's user, password and database, and the sentinels to ask for the master.
 */
export function connectionOptions(url: string, extra: RedisTlsOptions = {}): RedisOptions {
  if (extra.sentinel) return sentinelOptions(url, extra.sentinel);
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

function sentinelOptions(url: string, s: SentinelTarget): RedisOptions {
  const u = new URL(url);
  const db = Number(u.pathname.replace(/^\//, '') || 0);
  return {
    sentinels: s.sentinels,
    name: s.name,
    role: 'master',
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: Number.isInteger(db) ? db : 0,
    ...(s.sentinelUsername ? { sentinelUsername: s.sentinelUsername } : {}),
    ...(s.sentinelPassword ? { sentinelPassword: s.sentinelPassword } : {}),
    // No failover detector (ioredis' +switch-master subscription). With it, the workers' connections stopped for good
    // after a kill in 2 of 7 runs of the failover test (commands queued forever, no error), none in the runs since.
    // Reading ioredis 5.11: the detector calls connector.disconnect(); if that lands while the client is reconnecting,
    // connector.connect() rejects and Redis._connect() sets status "end", which never reconnects. A dead master's
    // socket closes by itself, and each reconnect asks the sentinels for the master again.
    failoverDetector: false,
    // A connection that still reaches a demoted master (now a replica) gets READONLY: reconnect, ask the
    // sentinels again and resend the command there.
    reconnectOnError: (err) => (/^READONLY\b/.test(err.message) ? 2 : false),
  };
}

/** Create a connection for `role` to `url`. */
export function createRedis(url: string, role: RedisRole, extra: RedisTlsOptions = {}): Redis {
  return newRedis(url, extra, {
    ...connectionOptions(url, extra),
    maxRetriesPerRequest: role === 'producer' ? 2 : null,
    // Reconnect forever with a capped backoff: a Redis restart must not kill the bot. Behind Sentinel each attempt
    // asks the sentinels first, so retry at least every second: the new master is used within ~1 s of its promotion.
    retryStrategy: extra.sentinel ? (times) => Math.min(250 * times, 1000) : (times) => Math.min(200 * 2 ** Math.min(times, 5), 5000),
    connectionName: `clawmedic-${role}`,
    lazyConnect: false,
  });
}

/** With Sentinel the URL's host is the master name, not an address: hand ioredis the options alone. */
function newRedis(url: string, extra: RedisTlsOptions, options: RedisOptions): Redis {
  return extra.sentinel ? new Redis(options) : new Redis(url, options);
}

/** Where Redis is, without user or password: `rediss://redis.internal:6380` or `Sentinel master mymaster (via 10.0.0.1:26379, …)`. */
export function describeRedis(url: string, extra: RedisTlsOptions = {}): string {
  if (!extra.sentinel) return describeRedisUrl(url);
  return `Sentinel master "${extra.sentinel.name}" (via ${extra.sentinel.sentinels.map((x) => `${x.host}:${x.port}`).join(', ')})`;
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
    const probe = newRedis(url, extra, {
      ...connectionOptions(url, extra),
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 2000,
      // One pass over the sentinels per attempt; this loop does the waiting and the logging.
      ...(extra.sentinel ? { sentinelRetryStrategy: () => null, failoverDetector: false } : {}),
    });
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

/**
 * When the connections of this process could not reach Redis (a restart, a Sentinel failover): a job that ran
 * through one can say so in its result. Spans closer than `mergeMs` are one outage (after a failover ioredis
 * reconnects once more when the sentinels announce the switch).
 */
export class RedisOutages {
  private downSince: number | undefined;
  private readonly spans: Array<{ from: number; to: number }> = [];

  constructor(private readonly mergeMs = 2000) {}

  /** Follow `conn`: 'close' starts an outage, 'ready' ends it. */
  watch(conn: Redis): this {
    conn.on('close', () => {
      this.downSince ??= Date.now();
    });
    conn.on('ready', () => {
      if (this.downSince === undefined) return;
      const span = { from: this.downSince, to: Date.now() };
      this.downSince = undefined;
      const last = this.spans[this.spans.length - 1];
      if (last && span.from - last.to <= this.mergeMs) last.to = span.to;
      else this.spans.push(span);
      if (this.spans.length > 100) this.spans.shift();
    });
    return this;
  }

  /** Outages that overlap [since, now]: how many and how long in all (an ongoing one counts up to now). */
  since(since: number, now = Date.now()): { count: number; ms: number } {
    const all = [...this.spans, ...(this.downSince !== undefined ? [{ from: this.downSince, to: now }] : [])].filter((x) => x.to >= since);
    return { count: all.length, ms: all.reduce((n, x) => n + (x.to - Math.max(x.from, since)), 0) };
  }
}
