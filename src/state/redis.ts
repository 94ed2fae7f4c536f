/**
 * Redis connections for clawmedic. Workers block on Redis and need maxRetriesPerRequest: null
 * (BullMQ's rule); producers keep a small finite value so enqueueing fails fast while Redis is
 * gone and the user gets "cannot reach Redis" instead of a hang.
 * Access to this Redis is access to the hosts' fix queue: the URL may carry a password
 * (`redis://:pw@host`), an ACL user (`redis://user:pw@host`) and TLS (`rediss://`, with an
 * optional private CA); every connection of the process is made here, with the same options —
 * with Redis Sentinel (`redis.sentinels` in the config) every one of them asks the sentinels for
 * the master and follows a failover, BullMQ's own duplicates included (ioredis copies the options);
 * with Redis Cluster (`redis.cluster`) every one is an ioredis Cluster that follows the slot map.
 */
import net from 'node:net';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { ConfigError } from '../domain/errors.js';
import { redact } from '../util/redact.js';

export type RedisRole = 'worker' | 'producer' | 'subscriber';

/**
 * A connection of the app: one Redis (direct or behind Sentinel) or a Redis Cluster. Both speak the same
 * commands; with a Cluster every multi-key command, MULTI and script must stay within one hash slot, which
 * the hash-tagged key prefix ensures (KeySpace.forConfig in state/key-space.ts).
 */
export type RedisClient = Redis | Cluster;

/** Redis Cluster: seed nodes (clawmedic learns the others and the slot map from them). */
export interface ClusterTarget {
  nodes: Array<{ host: string; port: number }>;
}

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
  /** Talk to a Redis Cluster; the URL then supplies only user and password. */
  cluster?: ClusterTarget;
}

/**
 * The connection target of an install: REDIS_URL alone, or REDIS_URL's credentials + the sentinels of
 * `redis.sentinels`. With Sentinel, a REDIS_URL that names a host must name the master group
 * (`redis://user:pw@mymaster/0`): a real address there would be a second, contradicting answer to
 * "where is Redis", so it is refused instead of silently ignored. TLS with Sentinel is not supported yet.
 */
export function redisTarget(
  redis: { sentinels?: Array<{ host: string; port: number }>; masterName?: string; cluster?: Array<{ host: string; port: number }> },
  secrets: { redisUrl: string; redisUrlSet?: boolean; redisTlsCa?: string; redisSentinelPassword?: string; redisSentinelUsername?: string },
): { url: string; extra: RedisTlsOptions } {
  if (redis.cluster) return clusterTarget(redis.cluster, secrets);
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

/**
 * REDIS_URL with `redis.cluster`: it supplies the user and password; a host in it must be one of the cluster nodes
 * (anything else is a second, contradicting answer to "where is Redis"), and the database must be 0 (a Cluster has no
 * other). TLS to a Cluster is not supported yet.
 */
function clusterTarget(nodes: Array<{ host: string; port: number }>, secrets: { redisUrl: string; redisUrlSet?: boolean }): { url: string; extra: RedisTlsOptions } {
  const cluster = { nodes: nodes.map((x) => ({ host: x.host, port: x.port })) };
  const first = `redis://${hostPart(nodes[0]!.host)}:${nodes[0]!.port}`;
  if (secrets.redisUrlSet === false) return { url: first, extra: { cluster } };
  let u: URL;
  try {
    u = new URL(secrets.redisUrl);
  } catch {
    throw new ConfigError('environment: REDIS_URL: expected redis://[user:password@]<one of the redis.cluster nodes> when redis.cluster is set');
  }
  if (u.protocol === 'rediss:') {
    throw new ConfigError('environment: REDIS_URL: rediss:// (TLS) together with redis.cluster is not supported yet; use redis:// to the cluster, or TLS to one Redis without redis.cluster');
  }
  const port = Number(u.port || 6379);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!nodes.some((x) => x.host === host && x.port === port)) {
    throw new ConfigError(
      `environment: REDIS_URL: names ${describeRedisUrl(secrets.redisUrl)}, which is not one of the redis.cluster nodes. ` +
        `Write REDIS_URL as redis://[user:password@]${nodes[0]!.host}:${nodes[0]!.port} (one of the nodes; the others are learned from it) or leave it unset.`,
    );
  }
  if (u.pathname.replace(/^\//, '') !== '' && u.pathname !== '/0') {
    throw new ConfigError(`environment: REDIS_URL: selects database ${u.pathname.slice(1)}, but a Redis Cluster has only database 0; drop "${u.pathname}" from REDIS_URL`);
  }
  return { url: secrets.redisUrl, extra: { cluster } };
}

/** An IPv6 address in a URL goes in brackets. */
function hostPart(host: string): string {
  return net.isIPv6(host) ? `[${host}]` : host;
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

/** Retry pace on a Cluster while a slot has no reachable master (a failover) or the cluster says CLUSTERDOWN / TRYAGAIN. */
const CLUSTER_RETRY_MS = 250;
/** Producers give up after this many such retries (~4 s): "cannot reach Redis" rather than a hang, as without Cluster. */
const CLUSTER_PRODUCER_REDIRECTIONS = 16;

/**
 * Options of an ioredis Cluster for `role`: the URL's user and password for every node, and how commands ride out a
 * failover. While the master of a slot is dead, ioredis answers a command sent there with "Connection is closed",
 * refreshes the slot map and resends after `retryDelayOnFailover`, each resend counting against `maxRedirections`:
 * workers and job connections never give up (the cluster promotes a replica within its node timeout and the command
 * goes there), producers give up after ~4 s.
 */
export function clusterOptions(url: string, role: RedisRole): ClusterOptions {
  const u = new URL(url);
  const waits = role !== 'producer';
  return {
    redisOptions: {
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      // BullMQ requires null for its workers' (blocking) connections; on a Cluster it reads it here.
      maxRetriesPerRequest: waits ? null : 2,
      connectionName: `clawmedic-${role}`,
      // A node that vanished without a reset (a dead machine) is given up after 3 s, then the slot map is asked again,
      // instead of ioredis' 10 s per attempt.
      connectTimeout: 3000,
    },
    // The whole cluster unreachable: start again from the seed nodes, at least every second (like Sentinel).
    clusterRetryStrategy: (times) => Math.min(CLUSTER_RETRY_MS * times, 1000),
    retryDelayOnFailover: CLUSTER_RETRY_MS,
    retryDelayOnClusterDown: CLUSTER_RETRY_MS,
    retryDelayOnTryAgain: CLUSTER_RETRY_MS,
    // A slot moved (resharding): follow at once, but never spin on a loop of MOVED replies.
    retryDelayOnMoved: waits ? 50 : 0,
    maxRedirections: waits ? Infinity : CLUSTER_PRODUCER_REDIRECTIONS,
    slotsRefreshTimeout: 2000,
    lazyConnect: false,
  };
}

/**
 * An ioredis Cluster that stays "end" once it has ended, and whose duplicates (BullMQ's blocking connections) do too.
 * ioredis 5.11 disconnects every node at once and sets "close" each time its node pool runs empty: the first time
 * leads to "end", but the later nodes' own "end" events empty the pool again and set it back to "close", for good
 * (seen in the failover test: a closed duplicate left in "close" with no nodes). A command retried after that would
 * wait in the offline queue of a cluster that never reconnects; with "end" kept it fails at once ("Cluster is ended").
 * (This does not cure every hang of a BullMQ Worker.close() after a failover: see the Cluster test.)
 */
export class ClawmedicCluster extends Cluster {
  constructor(nodes: ConstructorParameters<typeof Cluster>[0], options: ClusterOptions) {
    super(nodes, options);
    const pool = (this as unknown as { connectionPool: NodeJS.EventEmitter }).connectionPool;
    pool.removeAllListeners('drain');
    pool.on('drain', () => {
      if (this.status !== 'end') (this as unknown as { setStatus(s: string): void }).setStatus('close');
    });
  }

  override duplicate(overrideStartupNodes: ConstructorParameters<typeof Cluster>[0] = [], overrideOptions: ClusterOptions = {}): Cluster {
    const nodes = overrideStartupNodes.length > 0 ? overrideStartupNodes : (this as unknown as { startupNodes: ConstructorParameters<typeof Cluster>[0] }).startupNodes.slice(0);
    return new ClawmedicCluster(nodes, { ...this.options, ...overrideOptions });
  }
}

/** Create a connection for `role` to `url` (a Cluster when `extra.cluster` is set). */
export function createRedis(url: string, role: RedisRole, extra: RedisTlsOptions = {}): RedisClient {
  if (extra.cluster) return new ClawmedicCluster(extra.cluster.nodes, clusterOptions(url, role));
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
export function newRedis(url: string, extra: RedisTlsOptions, options: RedisOptions): Redis {
  return extra.sentinel ? new Redis(options) : new Redis(url, options);
}

/** Where Redis is, without user or password: `rediss://redis.internal:6380`, `Sentinel master mymaster (via 10.0.0.1:26379, …)` or `Redis Cluster (via …)`. */
export function describeRedis(url: string, extra: RedisTlsOptions = {}): string {
  if (extra.cluster) return `Redis Cluster (via ${extra.cluster.nodes.map((x) => `${hostPart(x.host)}:${x.port}`).join(', ')})`;
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
