/**
 * One SSH connection to one host: the handshake with host-key pinning that fails closed, the
 * algorithms the host is allowed, the key to log in with, and every failure as a typed error.
 */
import { readFile } from 'node:fs/promises';
import { Client, type ConnectConfig } from 'ssh2';
import type { HostConfig } from '../domain/host.js';
import {
  ClawmedicError,
  ConfigError,
  HostKeyMismatchError,
  HostUnreachableError,
  SshAlgorithmError,
  SshAuthError,
  SshTimeoutError,
} from '../domain/errors.js';
import { redact } from '../util/redact.js';
import { CLOSE_GRACE_MS } from './ssh-channel.js';
import { algorithmsFor, isNoCommonAlgorithm } from './ssh-algorithms.js';
import { fingerprintOf, fingerprintsMatch } from './host-key.js';

/** pino-compatible subset; every argument we pass is already redacted. */
export interface RunnerLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
]);

/** One pooled SSH connection to one host. */
export interface Conn {
  hostName: string;
  /** Connection-relevant config; a changed inventory entry gets a fresh connection. */
  signature: string;
  client: Client;
  ready: Promise<void>;
  closed: boolean;
  active: number;
  waiters: Array<() => void>;
  idleTimer?: NodeJS.Timeout;
}

type SshLevelError = Error & { level?: string; code?: string };

/** How connections are made (from SshRunnerOptions, defaults applied). */
export interface ConnectSettings {
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  noDelay: boolean;
  /** The global key, for hosts without `ssh.privateKeyPath`. */
  privateKey?: Buffer | string;
}

/** What a connection reports back to its pool. */
export interface ConnectHooks {
  log: RunnerLogger;
  /** The handshake succeeded (a pool miss). */
  onConnect?: (host: string) => void;
  /** The connection closed (for whatever reason): the pool forgets it. */
  onClose: (conn: Conn) => void;
}

/** Make any error one of our typed errors with a redacted message (a reason may echo server text). */
export function toTyped(host: HostConfig, err: unknown): ClawmedicError {
  if (err instanceof ClawmedicError) {
    err.message = redact(err.message);
    return err;
  }
  const e = err as SshLevelError;
  return new HostUnreachableError(host.name, redact(e?.code ?? e?.message ?? String(err)));
}

/** What in an inventory entry makes a different connection; a pooled one is reused only while it matches. */
export function connectionSignature(host: HostConfig): string {
  return JSON.stringify([
    host.ssh.host,
    host.ssh.port,
    host.ssh.user,
    host.ssh.hostKeyFingerprint,
    host.ssh.privateKeyPath ?? '',
    host.ssh.legacyAlgorithms === true,
  ]);
}

/** What the handshake saw of the host key, for the error that names it. */
interface HostKeyCheck {
  expected: string;
  received?: string;
  rejected: boolean;
}

/** The typed error for a failed handshake. */
function handshakeError(host: HostConfig, err: SshLevelError, key: HostKeyCheck, connectTimeoutMs: number): ClawmedicError {
  if (key.rejected) return new HostKeyMismatchError(host.name, key.expected || '(no pinned fingerprint)', key.received ?? '(none)');
  if (err.level === 'client-timeout') return new SshTimeoutError(host.name, 'connect', connectTimeoutMs);
  if (err.level === 'client-authentication') return new SshAuthError(host.name, host.ssh.user);
  if (err.code && UNREACHABLE_CODES.has(err.code)) return new HostUnreachableError(host.name, err.code);
  if (isNoCommonAlgorithm(err.message)) {
    return new SshAlgorithmError(host.name, redact(err.message.replace(/^Handshake failed: /, '')), host.ssh.legacyAlgorithms === true);
  }
  return new HostUnreachableError(host.name, redact(err.message));
}

/** ssh2's connect config: deadlines, keepalive, allowed algorithms, and the pinned host key. */
function connectConfig(host: HostConfig, privateKey: Buffer | string, settings: ConnectSettings, key: HostKeyCheck): ConnectConfig {
  return {
    host: host.ssh.host,
    port: host.ssh.port,
    username: host.ssh.user,
    privateKey,
    readyTimeout: settings.connectTimeoutMs,
    keepaliveInterval: settings.keepaliveIntervalMs,
    keepaliveCountMax: 3,
    tryKeyboard: false,
    algorithms: algorithmsFor(host.ssh.legacyAlgorithms === true),
    // Fail closed: anything but the pinned key (or no pin at all) aborts before auth.
    hostVerifier: (hostKey: Buffer) => {
      key.received = fingerprintOf(hostKey);
      const ok = key.expected.length > 0 && fingerprintsMatch(key.received, key.expected);
      if (!ok) key.rejected = true;
      return ok;
    },
  };
}

async function privateKeyFor(host: HostConfig, fallback: Buffer | string | undefined): Promise<Buffer | string> {
  if (host.ssh.privateKeyPath) {
    try {
      return await readFile(host.ssh.privateKeyPath);
    } catch (err) {
      throw new ConfigError(
        `${host.name}: cannot read ssh.privateKeyPath (${redact((err as NodeJS.ErrnoException).code ?? 'error')})`,
      );
    }
  }
  if (fallback) return fallback;
  throw new ConfigError(`${host.name}: no SSH private key (set ssh.privateKeyPath or the global SSH key)`);
}

/** Start connecting to `host`; `conn.ready` settles when the handshake and login are done (or failed, typed). */
export function openConnection(host: HostConfig, signature: string, settings: ConnectSettings, hooks: ConnectHooks): Conn {
  const client = new Client();
  const conn: Conn = { hostName: host.name, signature, client, ready: Promise.resolve(), closed: false, active: 0, waiters: [] };
  const key: HostKeyCheck = { expected: host.ssh.hostKeyFingerprint, rejected: false };
  const { log } = hooks;

  conn.ready = (async () => {
    const privateKey = await privateKeyFor(host, settings.privateKey);
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: ClawmedicError) => {
        if (settled) return;
        settled = true;
        conn.closed = true;
        client.end();
        reject(err);
      };
      client.on('ready', () => {
        if (settled) return;
        settled = true;
        log.debug({ host: host.name }, 'ssh connected');
        hooks.onConnect?.(host.name);
        resolve();
      });
      client.on('error', (err: SshLevelError) => {
        if (!settled) return fail(handshakeError(host, err, key, settings.connectTimeoutMs));
        // After ready: the close handler drops the connection; in-flight commands see it there.
        log.warn({ host: host.name, err: redact(err.message), level: err.level }, 'ssh connection error');
      });
      client.on('close', () => {
        conn.closed = true;
        clearTimeout(conn.idleTimer);
        hooks.onClose(conn);
        log.debug({ host: host.name }, 'ssh connection closed');
        fail(new HostUnreachableError(host.name, 'connection closed during handshake'));
        // Anyone waiting for a channel slot on this connection must not wait forever.
        for (const w of conn.waiters.splice(0)) w();
      });
      try {
        client.connect(connectConfig(host, privateKey, settings, key));
        // Applied by node as soon as the socket exists; measured equal to handing ssh2 our own socket.
        if (settings.noDelay) client.setNoDelay(true);
      } catch (err) {
        fail(toTyped(host, err));
      }
    });
  })();
  // Avoid an unhandled rejection when nobody awaits a failed connection (e.g. replaced by close()).
  conn.ready.catch(() => {});
  return conn;
}

/** Disconnect politely; drop the socket if the server does not answer within the grace period. */
export function endConnection(conn: Conn): Promise<void> {
  clearTimeout(conn.idleTimer);
  if (conn.closed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      // Server did not answer our disconnect: drop the socket.
      try {
        conn.client.destroy();
      } catch {
        /* already gone */
      }
      resolve();
    }, CLOSE_GRACE_MS);
    timer.unref?.();
    conn.client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    conn.closed = true;
    conn.client.end();
  });
}
