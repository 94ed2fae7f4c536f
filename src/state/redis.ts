/**
 * Redis connections for clawmedic. Workers block on Redis and need maxRetriesPerRequest: null
 * (BullMQ's rule); producers keep a small finite value so enqueueing fails fast while Redis is
 * gone and the user gets "cannot reach Redis" instead of a hang.
 * Access to this Redis is access to the hosts' fix queue: the URL may carry a password
 * (`redis://:pw@host`), an ACL user (`redis://user:pw@host`) and TLS (`rediss://`, with an
 * optional private CA and client certificate), to one Redis, through Sentinel or to a Cluster; every connection of
 * the process is made here, with the same options —
 * with Redis Sentinel (`redis.sentinels` in the config) every one of them asks the sentinels for
 * the master and follows a failover, BullMQ's own duplicates included (ioredis copies the options);
 * with Redis Cluster (`redis.cluster`) every one is an ioredis Cluster that follows the slot map.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { ClawmedicError, ConfigError } from '../domain/errors.js';
import type { Logger } from '../util/logger.js';
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
  /** PEM of clawmedic's client certificate and its key (REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE), for servers that ask for one (`tls-auth-clients yes`). */
  tlsCert?: string;
  tlsKey?: string;
  /** With Sentinel: TLS to the sentinels themselves too (`redis.sentinelTls`); as REDIS_URL's scheme when unset. */
  sentinelTls?: boolean;
  /** Reach the master through Redis Sentinel; the URL then supplies only user, password and database. */
  sentinel?: SentinelTarget;
  /** Talk to a Redis Cluster; the URL then supplies only user and password. */
  cluster?: ClusterTarget;
}

/**
 * The connection target of an install: REDIS_URL alone, or REDIS_URL's credentials + the sentinels of
 * `redis.sentinels`. With Sentinel, a REDIS_URL that names a host must name the master group
 * (`redis://user:pw@mymaster/0`): a real address there would be a second, contradicting answer to
 * "where is Redis", so it is refused instead of silently ignored. `rediss://` turns TLS on for every connection: to
 * the master and replicas the sentinels name (and to the sentinels, unless `redis.sentinelTls: false`), or to every
 * node of a Cluster; REDIS_TLS_CA_FILE and the client certificate apply to all of them.
 */
export function redisTarget(
  redis: { sentinels?: Array<{ host: string; port: number }>; masterName?: string; sentinelTls?: boolean; cluster?: Array<{ host: string; port: number }> },
  secrets: {
    redisUrl: string;
    redisUrlSet?: boolean;
    redisTlsCa?: string;
    redisTlsCert?: string;
    redisTlsKey?: string;
    redisSentinelPassword?: string;
    redisSentinelUsername?: string;
  },
): { url: string; extra: RedisTlsOptions } {
  const tls: RedisTlsOptions = {
    tlsCa: secrets.redisTlsCa,
    ...(secrets.redisTlsCert ? { tlsCert: secrets.redisTlsCert } : {}),
    ...(secrets.redisTlsKey ? { tlsKey: secrets.redisTlsKey } : {}),
  };
  if (redis.cluster) return clusterTarget(redis.cluster, secrets, tls);
  if (!redis.sentinels || !redis.masterName) return { url: secrets.redisUrl, extra: tls };
  const name = redis.masterName;
  const withSentinel = (url: string) => ({
    url,
    extra: { ...tls, sentinel: sentinelOf(redis.sentinels!, name, secrets), ...(redis.sentinelTls !== undefined ? { sentinelTls: redis.sentinelTls } : {}) },
  });
  if (secrets.redisUrlSet === false) {
    // Nothing in the environment: no credentials, database 0, no TLS to the data nodes.
    return withSentinel(`redis://${name}`);
  }
  let u: URL;
  try {
    u = new URL(secrets.redisUrl);
  } catch {
    throw new ConfigError('environment: REDIS_URL: expected redis[s]://[user:password@]<master name>[/db] when redis.sentinels is set');
  }
  if (u.hostname !== name || u.port !== '') {
    throw new ConfigError(
      `environment: REDIS_URL: names ${describeRedisUrl(secrets.redisUrl)} while redis.sentinels is set (the sentinels say where the master is). ` +
        `Write REDIS_URL as ${u.protocol}//[user:password@]${name}[/db] (the host part is the master name) or leave it unset.`,
    );
  }
  return withSentinel(secrets.redisUrl);
}

/**
 * REDIS_URL with `redis.cluster`: it supplies the user and password and, with `rediss://`, TLS to every node; a host in
 * it must be one of the cluster nodes (anything else is a second, contradicting answer to "where is Redis"), and the
 * database must be 0 (a Cluster has no other).
 */
function clusterTarget(nodes: Array<{ host: string; port: number }>, secrets: { redisUrl: string; redisUrlSet?: boolean }, tls: RedisTlsOptions): { url: string; extra: RedisTlsOptions } {
  const cluster = { nodes: nodes.map((x) => ({ host: x.host, port: x.port })) };
  const first = `redis://${hostPart(nodes[0]!.host)}:${nodes[0]!.port}`;
  if (secrets.redisUrlSet === false) return { url: first, extra: { ...tls, cluster } };
  let u: URL;
  try {
    u = new URL(secrets.redisUrl);
  } catch {
    throw new ConfigError('environment: REDIS_URL: expected redis[s]://[user:password@]<one of the redis.cluster nodes> when redis.cluster is set');
  }
  const port = Number(u.port || 6379);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!nodes.some((x) => x.host === host && x.port === port)) {
    throw new ConfigError(
      `environment: REDIS_URL: names ${describeRedisUrl(secrets.redisUrl)}, which is not one of the redis.cluster nodes. ` +
        `Write REDIS_URL as ${u.protocol}//[user:password@]${nodes[0]!.host}:${nodes[0]!.port} (one of the nodes; the others are learned from it) or leave it unset.`,
    );
  }
  if (u.pathname.replace(/^\//, '') !== '' && u.pathname !== '/0') {
    throw new ConfigError(`environment: REDIS_URL: selects database ${u.pathname.slice(1)}, but a Redis Cluster has only database 0; drop "${u.pathname}" from REDIS_URL`);
  }
  return { url: secrets.redisUrl, extra: { ...tls, cluster } };
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

export const isTlsUrl = (url: string) => /^rediss:\/\//i.test(url);

/**
 * Node's TLS options for one connection: certificate and host name always checked (never disabled here), the CA and
 * the client certificate of the install. No `servername` unless given: Node then checks the certificate against the
 * host it connects to, which is what a node named by the sentinels or by a Cluster's slot map needs.
 */
export function tlsOptions(extra: RedisTlsOptions, servername?: string): NonNullable<RedisOptions['tls']> {
  return {
    ...(extra.tlsCa ? { ca: extra.tlsCa } : {}),
    ...(extra.tlsCert && extra.tlsKey ? { cert: extra.tlsCert, key: extra.tlsKey } : {}),
    ...(servername ? { servername } : {}),
    rejectUnauthorized: true,
  };
}

/**
 * Auth and TLS options for `url`: user and password come from the URL (ioredis decodes them);
 * `rediss://` turns on TLS with certificate and host name checks (never disabled here).
 * With Sentinel: the URL's user, password and database, and the sentinels to ask for the master.
 */
export function connectionOptions(url: string, extra: RedisTlsOptions = {}): RedisOptions {
  if (extra.sentinel) return sentinelOptions(url, extra.sentinel, extra);
  if (!isTlsUrl(url)) return {};
  const hostname = new URL(url).hostname.replace(/^\[|\]$/g, '');
  // SNI only for names; an IP address is checked against the certificate's IP SANs.
  return { tls: tlsOptions(extra, net.isIP(hostname) ? undefined : hostname) };
}

function sentinelOptions(url: string, s: SentinelTarget, extra: RedisTlsOptions): RedisOptions {
  const u = new URL(url);
  const db = Number(u.pathname.replace(/^\//, '') || 0);
  const tls = isTlsUrl(url);
  return {
    // TLS to the master and replicas the sentinels name (ioredis applies `tls` to them only with
    // enableTLSForSentinelMode), checked against the address the sentinels gave: the URL's host is the master name.
    ...(tls ? { tls: tlsOptions(extra), enableTLSForSentinelMode: true } : {}),
    // And to the sentinels (they carry REDIS_SENTINEL_PASSWORD), checked against their configured host.
    ...((extra.sentinelTls ?? tls) ? { sentinelTLS: tlsOptions(extra) } : {}),
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
export function clusterOptions(url: string, role: RedisRole, extra: RedisTlsOptions = {}): ClusterOptions {
  const u = new URL(url);
  const waits = role !== 'producer';
  const tls = isTlsUrl(url);
  return {
    // TLS to every node, each checked against the host it is reached at. Node names are not resolved by ioredis first
    // (its default): a certificate names the host, and a connection made to its address would fail the check.
    ...(tls ? { dnsLookup: (address: string, callback: (err: NodeJS.ErrnoException | null, address: string) => void) => callback(null, address) } : {}),
    redisOptions: {
      ...(tls ? { tls: tlsOptions(extra) } : {}),
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
 * An ioredis Cluster (5.11) that settles what it starts and stays "end" once it has ended; its duplicates (BullMQ's
 * blocking connections) are ClawmedicClusters too. Three defects of ioredis' Cluster, each of which left a BullMQ
 * worker waiting for ever after a failover in the Cluster test (it stopped taking jobs, and Worker.close() never
 * returned, so a graceful shutdown hung):
 * - connect() never settles when the ready check fails: during a failover the nodes answer `cluster_state:fail`, the
 *   Cluster disconnects and reconnects by itself with a new connect(), and the first promise is forgotten. BullMQ
 *   awaits it when it reconnects its blocking connection (seen: one such reconnect pending until the process died).
 *   Here connect() also settles on the Cluster's own "ready" (the retry got through) or "end" (it was closed).
 * - disconnect() of a Cluster whose node pool is already empty (between two reconnect attempts) sets "disconnecting"
 *   and nothing else: no "close", no "end", which BullMQ's disconnect(wait) waits for. Here it ends.
 * - every node's own "end" empties the pool again and sets "close" after "end", for good (a closed duplicate left in
 *   "close"; a command retried then waits in the offline queue of a cluster that never reconnects). Here "end" stays.
 */
export class ClawmedicCluster extends Cluster {
  /**
   * connect() calls not settled yet, settled together by the next "ready" or "end". Not a field with an initializer:
   * ioredis' constructor calls connect() before a subclass's fields exist.
   */
  private unsettled?: Set<{ resolve(): void; reject(err: Error): void }>;

  constructor(nodes: ConstructorParameters<typeof Cluster>[0], options: ClusterOptions) {
    super(nodes, options);
    const pool = (this as unknown as { connectionPool: NodeJS.EventEmitter }).connectionPool;
    pool.removeAllListeners('drain');
    pool.on('drain', () => {
      if (this.status !== 'end') (this as unknown as { setStatus(s: string): void }).setStatus('close');
    });
    // One listener each, however many reconnects are pending (a long outage makes one per attempt).
    this.on('ready', () => this.settleAll((w) => w.resolve()));
    this.on('end', () => this.settleAll((w) => w.reject(new Error('Connection is closed.'))));
  }

  private settleAll(how: (w: { resolve(): void; reject(err: Error): void }) => void): void {
    const all = [...(this.unsettled ?? [])];
    this.unsettled?.clear();
    for (const w of all) how(w);
  }

  override connect(): Promise<void> {
    const first = super.connect();
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      (this.unsettled ??= new Set()).add(waiter);
      first.then(
        () => this.unsettled?.delete(waiter) && resolve(),
        (err: Error) => this.unsettled?.delete(waiter) && reject(err),
      );
    });
  }

  override disconnect(reconnect = false): void {
    super.disconnect(reconnect);
    const self = this as unknown as { connectionPool: { getNodes(): unknown[] }; setStatus(s: string): void; handleCloseEvent(): void };
    if (!reconnect && this.status === 'disconnecting' && self.connectionPool.getNodes().length === 0) {
      // Nothing left to close, so no "drain" will come: close now (manuallyClosing is set, so this ends it).
      self.setStatus('close');
      self.handleCloseEvent();
    }
  }

  override duplicate(overrideStartupNodes: ConstructorParameters<typeof Cluster>[0] = [], overrideOptions: ClusterOptions = {}): Cluster {
    const nodes = overrideStartupNodes.length > 0 ? overrideStartupNodes : (this as unknown as { startupNodes: ConstructorParameters<typeof Cluster>[0] }).startupNodes.slice(0);
    return new ClawmedicCluster(nodes, { ...this.options, ...overrideOptions });
  }
}

/** Create a connection for `role` to `url` (a Cluster when `extra.cluster` is set). */
export function createRedis(url: string, role: RedisRole, extra: RedisTlsOptions = {}): RedisClient {
  if (extra.cluster) return new ClawmedicCluster(extra.cluster.nodes, clusterOptions(url, role, extra));
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

/** Where Redis is, without user or password: `rediss://redis.internal:6380`, `Sentinel master "mymaster" (via 10.0.0.1:26379, …)` or `Redis Cluster (via …)`, each with "over TLS" when it is. */
export function describeRedis(url: string, extra: RedisTlsOptions = {}): string {
  const overTls = isTlsUrl(url) ? ' over TLS' : '';
  if (extra.cluster) return `Redis Cluster (via ${extra.cluster.nodes.map((x) => `${hostPart(x.host)}:${x.port}`).join(', ')})${overTls}`;
  if (!extra.sentinel) return describeRedisUrl(url);
  return `Sentinel master "${extra.sentinel.name}" (via ${extra.sentinel.sentinels.map((x) => `${x.host}:${x.port}`).join(', ')})${overTls}`;
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
