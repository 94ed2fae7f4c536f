/**
 * Waiting for Redis at start: one clear log line per attempt instead of a crash loop, and the two ways
 * it ends badly told apart — unreachable (transient: keep waiting or retry later) and refused
 * (credentials or certificates: waiting will not help, the config must change; a TLS problem is named
 * by a handshake of clawmedic's own, since ioredis reports it on sentinels and cluster nodes only as
 * "Connection is closed").
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Cluster } from 'ioredis';
import { ClawmedicError } from '../domain/errors.js';
import type { Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';
import { ClawmedicCluster, clusterOptions, connectionOptions, describeRedis, isTlsUrl, newRedis, tlsOptions, type RedisTlsOptions } from './redis.js';

/** Redis could not be reached. Transient by nature. */
export class RedisUnavailableError extends ClawmedicError {
  constructor(url: string, reason: string, extra: RedisTlsOptions = {}) {
    super(`Redis at ${describeRedis(url, extra)} is unreachable (${reason}).`, 'REDIS_UNAVAILABLE', true);
  }
}

/** Redis answered but refused the credentials or the certificate: waiting will not help, the config must change. */
export class RedisAccessError extends ClawmedicError {
  constructor(url: string, reason: string, extra: RedisTlsOptions = {}) {
    // Whose refusal it was: clawmedic does not trust the server's certificate, or the server refused clawmedic.
    const what = SERVER_CERT_RE.test(reason) && !CLIENT_CERT_RE.test(reason) ? 'clawmedic refused the server\'s TLS certificate' : 'refused the connection';
    super(`Redis at ${describeRedis(url, extra)}: ${what}: ${reason}. ${accessHint(reason, extra)}`, 'REDIS_ACCESS');
  }
}

/** What to change, by what went wrong: the server's certificate, clawmedic's client certificate, or the credentials. */
function accessHint(reason: string, extra: RedisTlsOptions): string {
  if (CLIENT_CERT_RE.test(reason)) {
    return 'The server asks for a client certificate it trusts: set REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE to one signed by the CA of its tls-ca-cert-file.';
  }
  if (SERVER_CERT_RE.test(reason)) {
    return (
      "The server's TLS certificate was not accepted: REDIS_TLS_CA_FILE must hold the CA that signed the certificates of the Redis servers" +
      (extra.sentinel ? ' and sentinels' : extra.cluster ? ' (every cluster node)' : '') +
      ', and each certificate must name the address clawmedic connects to.'
    );
  }
  if (WRONG_VERSION_RE.test(reason)) {
    return 'REDIS_URL says rediss:// (TLS), but the server answered in plain text: use its tls-port, or redis:// if it has no TLS.';
  }
  return extra.sentinel ? 'Check the user and password of REDIS_URL and REDIS_SENTINEL_PASSWORD.' : 'Check the user, password and TLS settings of REDIS_URL.';
}

/** The server's certificate was not trusted or does not match (Node's codes, and its messages where ioredis kept only those). */
const SERVER_CERT_RE =
  /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE|ERR_TLS_CERT_ALTNAME|HOSTNAME_MISMATCH|self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate|certificate has expired|does not match certificate's altnames|Hostname\/IP does not match/i;
/** The server refused clawmedic's client certificate, or got none (TLS alerts). */
const CLIENT_CERT_RE = /CERTIFICATE_REQUIRED|certificate required|ALERT_UNKNOWN_CA|alert unknown ca|ALERT_BAD_CERTIFICATE|alert bad certificate|peer did not return a certificate/i;
/** TLS spoken to a plain-text port. */
const WRONG_VERSION_RE = /WRONG_VERSION_NUMBER|wrong version number|packet length too long/i;

/** Errors that retrying cannot fix: auth (WRONGPASS, NOAUTH, NOPERM), certificate checks either way, TLS to a plain port. */
const ACCESS_ERROR_RE = new RegExp([/(^|\s)(WRONGPASS|NOAUTH|NOPERM)\b/.source, /CERT/.source, SERVER_CERT_RE.source, CLIENT_CERT_RE.source, WRONG_VERSION_RE.source].join('|'), 'i');

/**
 * Wait until Redis answers PING, logging one clear line per attempt (no crash loop).
 * Gives up after `maxWaitMs` (Infinity for the long-running bot) with RedisUnavailableError.
 */
export async function waitForRedis(url: string, logger: Logger, maxWaitMs: number, extra: RedisTlsOptions = {}): Promise<void> {
  const started = Date.now();
  let delay = 500;
  for (;;) {
    const probe = extra.cluster
      ? clusterProbe(url, extra)
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
      const tlsError = await tlsEndpointError(url, extra);
      if (tlsError) throw new RedisAccessError(url, redact(tlsError), extra);
      const reason = redact(socketError ?? (err as NodeJS.ErrnoException).code ?? message);
      if (Date.now() - started + delay > maxWaitMs) throw new RedisUnavailableError(url, reason, extra);
      logger.warn(`Redis at ${describeRedis(url, extra)} is unreachable (${reason}); retrying in ${Math.round(delay / 1000)} s`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  }
}

/**
 * Through Sentinel or to a Cluster, ioredis drops the TLS error of the connections it makes on its own (to the
 * sentinels, to each node) and reports "Connection is closed", which reads like a Redis that is down. When such a
 * probe fails, a TLS handshake of our own to the configured sentinels or nodes (same options) says whether the
 * certificate is the problem: the first certificate error found, or undefined.
 */
async function tlsEndpointError(url: string, extra: RedisTlsOptions): Promise<string | undefined> {
  const endpoints = extra.cluster && isTlsUrl(url) ? extra.cluster.nodes : extra.sentinel && (extra.sentinelTls ?? isTlsUrl(url)) ? extra.sentinel.sentinels : [];
  for (const e of endpoints.slice(0, 3)) {
    const err = await tlsHandshakeError(e.host, e.port, tlsOptions(extra, net.isIP(e.host) ? undefined : e.host));
    if (err && ACCESS_ERROR_RE.test(err)) return err;
  }
  return undefined;
}

/** TLS handshake + one PING to host:port: the TLS error ("CODE: message"), or undefined if the server answered or went silent. */
function tlsHandshakeError(host: string, port: number, options: tls.ConnectionOptions, ms = PROBE_DEADLINE_MS / 2): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = tls.connect({ host, port, ...options });
    const done = (result: string | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(undefined), ms);
    sock.once('error', (e: NodeJS.ErrnoException) => done(tlsErrorText(e)));
    // With TLS 1.3 a server rejects a missing or untrusted client certificate after the handshake, with an alert
    // that arrives as an error on the first read: send a PING and see what comes back.
    sock.once('secureConnect', () => sock.write('PING\r\n'));
    sock.once('data', () => done(undefined));
    sock.once('close', () => done(undefined));
  });
}

/**
 * "CODE: reason" of a TLS error. OpenSSL's messages carry the library's internals
 * (`807C…:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:…/rec_layer_s3.c:1601:…`):
 * only the reason is kept.
 */
function tlsErrorText(e: NodeJS.ErrnoException): string {
  const reason = /SSL routines:[^:]*:([^:]+):/.exec(e.message)?.[1] ?? e.message.split('\n')[0]!;
  return e.code ? `${e.code}: ${reason}` : reason;
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
function clusterProbe(url: string, extra: RedisTlsOptions): Cluster {
  const o = clusterOptions(url, 'producer', extra);
  return new ClawmedicCluster(extra.cluster!.nodes, {
    ...o,
    redisOptions: { ...o.redisOptions, maxRetriesPerRequest: 0, connectTimeout: 2000 },
    lazyConnect: true,
    clusterRetryStrategy: () => null,
  });
}
