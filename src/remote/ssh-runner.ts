/**
 * The SSH transport: runs fixed scripts on inventory hosts over ssh2 with one pooled connection
 * per host, host-key pinning that fails closed, separate connect/channel/command deadlines and an output cap.
 */
import { algorithmsFor, isNoCommonAlgorithm } from './ssh-algorithms.js';
import { readFile } from 'node:fs/promises';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import type { HostConfig } from '../domain/host.js';
import type { ExecOptions, ExecResult, RemoteRunner } from '../domain/remote.js';
import {
  ClawmedicError,
  ConfigError,
  HostKeyMismatchError,
  SshAlgorithmError,
  HostUnreachableError,
  SshAuthError,
  SshTimeoutError,
} from '../domain/errors.js';
import { redact } from '../util/redact.js';
import { fingerprintOf, fingerprintsMatch } from './host-key.js';
import { wrapRemoteScript } from './remote-wrapper.js';

/** pino-compatible subset; every argument we pass is already redacted. */
export interface RunnerLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Options for {@link SshRunner}; every field but the key has a default tuned for chat-ops commands. */
export interface SshRunnerOptions {
  /** Private key contents (OpenSSH/PEM) used for hosts without `ssh.privateKeyPath`. Never logged. */
  privateKey?: Buffer | string;
  /** TCP connect + SSH handshake + auth deadline (ssh2 readyTimeout). Default 10000. */
  connectTimeoutMs?: number;
  /** Deadline for opening a session channel on an established connection. Default 5000. */
  channelTimeoutMs?: number;
  /** Output cap (stdout+stderr bytes) when ExecOptions.maxOutputBytes is not given. Default 1_000_000. */
  defaultMaxOutputBytes?: number;
  /** Close a host's connection after it has had no open channel for this long. Default 60000. */
  idleCloseMs?: number;
  /** Channels open at once per connection; more wait. OpenSSH's MaxSessions default is 10. Default 8. */
  maxChannelsPerHost?: number;
  /** SSH keepalive interval so a dead pooled connection is noticed (0 = off). Default 15000. */
  keepaliveIntervalMs?: number;
  /**
   * Disable Nagle on the socket. Default true: on a warm connection it takes a loopback `echo`
   * from ~46 ms to ~2.5 ms (delayed-ACK stalls); there is no reason to turn it off but measuring.
   */
  noDelay?: boolean;
  /** Longest line stream() delivers whole; longer ones are cut there. Default 65536 bytes. */
  maxLineBytes?: number;
  logger?: RunnerLogger;
  /** Metrics hook, called once per exec(): host name, wall time, success. */
  onExec?: (host: string, ms: number, ok: boolean) => void;
  /** Called when a new SSH connection to a host is ready (pool misses), e.g. for a connections counter. */
  onConnect?: (host: string) => void;
}

const DEFAULTS = {
  connectTimeoutMs: 10_000,
  channelTimeoutMs: 5_000,
  defaultMaxOutputBytes: 1_000_000,
  idleCloseMs: 60_000,
  maxChannelsPerHost: 8,
  keepaliveIntervalMs: 15_000,
  noDelay: true,
  maxLineBytes: 65_536,
} as const;

/** Extra seconds the remote-side deadline grants beyond the local one, so the local deadline normally wins. */
const REMOTE_DEADLINE_SLACK_S = 2;
/** How long to wait for the server to confirm a channel close before freeing its slot anyway. */
const CLOSE_GRACE_MS = 2_000;

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

const noopLogger: RunnerLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** One pooled SSH connection to one host. */
interface Conn {
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

/** Make any error one of our typed errors with a redacted message (a reason may echo server text). */
function toTyped(host: HostConfig, err: unknown): ClawmedicError {
  if (err instanceof ClawmedicError) {
    err.message = redact(err.message);
    return err;
  }
  const e = err as SshLevelError;
  return new HostUnreachableError(host.name, redact(e?.code ?? e?.message ?? String(err)));
}

/**
 * RemoteRunner over ssh2 with a per-host connection pool (keyed by host.name), reused while open,
 * closed after `idleCloseMs` without channels and re-created after an error or close.
 */
export class SshRunner implements RemoteRunner {
  private readonly opts: Required<Omit<SshRunnerOptions, 'privateKey' | 'logger' | 'onExec' | 'onConnect'>>;
  private readonly log: RunnerLogger;
  private readonly pool = new Map<string, Conn>();

  constructor(private readonly options: SshRunnerOptions = {}) {
    this.opts = {
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      channelTimeoutMs: options.channelTimeoutMs ?? DEFAULTS.channelTimeoutMs,
      defaultMaxOutputBytes: options.defaultMaxOutputBytes ?? DEFAULTS.defaultMaxOutputBytes,
      idleCloseMs: options.idleCloseMs ?? DEFAULTS.idleCloseMs,
      maxChannelsPerHost: Math.max(1, options.maxChannelsPerHost ?? DEFAULTS.maxChannelsPerHost),
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? DEFAULTS.keepaliveIntervalMs,
      noDelay: options.noDelay ?? DEFAULTS.noDelay,
      maxLineBytes: options.maxLineBytes ?? DEFAULTS.maxLineBytes,
    };
    this.log = options.logger ?? noopLogger;
  }

  /** Number of pooled connections currently open or opening (for /metrics and tests). */
  get openConnections(): number {
    return this.pool.size;
  }

  /**
   * Run `script` (built from fixed templates, arguments quoted with shellQuote) on `host`.
   * Resolves with exit code and output whatever the exit code; rejects only with typed transport errors.
   */
  async exec(host: HostConfig, script: string, opts: ExecOptions): Promise<ExecResult> {
    const started = performance.now();
    let ok = false;
    try {
      const conn = await this.connection(host);
      const release = await this.acquireSlot(conn, host, opts.timeoutMs);
      const remoteDeadlineS = Math.ceil(opts.timeoutMs / 1000) + REMOTE_DEADLINE_SLACK_S;
      let channel: ClientChannel;
      try {
        channel = await this.openChannel(conn, host, wrapRemoteScript(script, remoteDeadlineS));
      } catch (err) {
        release();
        throw err;
      }
      // From here collect() owns the slot and frees it once the channel is really gone.
      const result = await this.collect(conn, host, channel, opts, started, release);
      ok = true;
      return result;
    } catch (err) {
      throw toTyped(host, err);
    } finally {
      const ms = performance.now() - started;
      this.log.debug({ host: host.name, ms: Math.round(ms * 10) / 10, ok }, 'ssh exec');
      this.options.onExec?.(host.name, ms, ok);
    }
  }

  /**
   * Run a long-lived script (log follow: `tail -F`, `journalctl -f`) and call onLine for each stdout line.
   * stop() closes the channel, which kills the remote command. done resolves (never rejects) once the
   * channel is gone: after stop(), when the command exits, or when the connection drops; callers that
   * follow logs restart on done. stderr is only logged (debug): templates that want it add `2>&1`.
   */
  async stream(
    host: HostConfig,
    script: string,
    onLine: (line: string) => void,
  ): Promise<{ stop(): void; done: Promise<void> }> {
    let channel: ClientChannel;
    let release: () => void;
    let conn: Conn;
    try {
      conn = await this.connection(host);
      release = await this.acquireSlot(conn, host, this.opts.channelTimeoutMs);
      try {
        channel = await this.openChannel(conn, host, wrapRemoteScript(script, 0));
      } catch (err) {
        release();
        throw err;
      }
    } catch (err) {
      throw toTyped(host, err);
    }

    const maxLine = this.opts.maxLineBytes;
    let pending = '';
    let stopped = false;
    const emit = (line: string) => {
      try {
        onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      } catch (err) {
        this.log.warn({ host: host.name, err: redact(String(err)) }, 'stream onLine handler threw');
      }
    };
    channel.setEncoding('utf8');
    // After cutting a runaway line, drop the rest of it up to its newline instead of emitting fragments.
    let skipping = false;
    channel.on('data', (chunk: string) => {
      if (stopped) return;
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        if (!skipping) emit(pending.slice(0, nl));
        skipping = false;
        pending = pending.slice(nl + 1);
      }
      // A line without newline must not grow without bound.
      if (skipping) {
        pending = '';
      } else if (Buffer.byteLength(pending) > maxLine) {
        emit(Buffer.from(pending).subarray(0, maxLine).toString('utf8'));
        pending = '';
        skipping = true;
      }
    });
    channel.stderr.setEncoding('utf8');
    channel.stderr.on('data', (chunk: string) => {
      this.log.debug({ host: host.name, stderr: redact(chunk.slice(0, 500)) }, 'stream stderr');
    });

    let stopper: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      let finished = false;
      let graceTimer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(graceTimer);
        conn.client.off('close', onLost);
        if (pending && !stopped && !skipping) emit(pending);
        pending = '';
        release();
        resolve();
      };
      const onLost = () => finish();
      conn.client.once('close', onLost);
      channel.on('close', finish);
      stopper = () => {
        if (stopped) return;
        stopped = true;
        killChannel(channel);
        // Do not hang a caller's shutdown on a server that never confirms the close.
        graceTimer = setTimeout(finish, CLOSE_GRACE_MS);
        graceTimer.unref?.();
      };
    });
    return { stop: () => stopper(), done };
  }

  /** Close every pooled connection; later exec() calls open new ones. */
  async close(): Promise<void> {
    const conns = [...this.pool.values()];
    this.pool.clear();
    await Promise.all(conns.map((c) => this.endConn(c)));
  }

  // ---------------------------------------------------------------------------------------------

  /** Pooled connection for `host`, opening one if there is none (or the inventory entry changed). */
  private async connection(host: HostConfig): Promise<Conn> {
    const signature = JSON.stringify([
      host.ssh.host,
      host.ssh.port,
      host.ssh.user,
      host.ssh.hostKeyFingerprint,
      host.ssh.privateKeyPath ?? '',
      host.ssh.legacyAlgorithms === true,
    ]);
    const existing = this.pool.get(host.name);
    if (existing && !existing.closed && existing.signature === signature) {
      await existing.ready;
      return existing;
    }
    if (existing) {
      this.pool.delete(host.name);
      void this.endConn(existing);
    }
    const conn = this.openConn(host, signature);
    this.pool.set(host.name, conn);
    try {
      await conn.ready;
    } catch (err) {
      if (this.pool.get(host.name) === conn) this.pool.delete(host.name);
      throw err;
    }
    return conn;
  }

  private openConn(host: HostConfig, signature: string): Conn {
    const client = new Client();
    const conn: Conn = { hostName: host.name, signature, client, ready: Promise.resolve(), closed: false, active: 0, waiters: [] };
    const expected = host.ssh.hostKeyFingerprint;
    let received: string | undefined;
    let hostKeyRejected = false;

    conn.ready = (async () => {
      const privateKey = await this.privateKeyFor(host);
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
          this.log.debug({ host: host.name }, 'ssh connected');
          this.options.onConnect?.(host.name);
          resolve();
        });
        client.on('error', (err: SshLevelError) => {
          if (!settled) {
            if (hostKeyRejected) {
              fail(new HostKeyMismatchError(host.name, expected || '(no pinned fingerprint)', received ?? '(none)'));
            } else if (err.level === 'client-timeout') {
              fail(new SshTimeoutError(host.name, 'connect', this.opts.connectTimeoutMs));
            } else if (err.level === 'client-authentication') {
              fail(new SshAuthError(host.name, host.ssh.user));
            } else if (err.code && UNREACHABLE_CODES.has(err.code)) {
              fail(new HostUnreachableError(host.name, err.code));
            } else if (isNoCommonAlgorithm(err.message)) {
              fail(new SshAlgorithmError(host.name, redact(err.message.replace(/^Handshake failed: /, '')), host.ssh.legacyAlgorithms === true));
            } else {
              fail(new HostUnreachableError(host.name, redact(err.message)));
            }
            return;
          }
          // After ready: the close handler drops the connection; in-flight commands see it there.
          this.log.warn({ host: host.name, err: redact(err.message), level: err.level }, 'ssh connection error');
        });
        client.on('close', () => {
          conn.closed = true;
          clearTimeout(conn.idleTimer);
          if (this.pool.get(host.name) === conn) this.pool.delete(host.name);
          this.log.debug({ host: host.name }, 'ssh connection closed');
          fail(new HostUnreachableError(host.name, 'connection closed during handshake'));
          // Anyone waiting for a channel slot on this connection must not wait forever.
          for (const w of conn.waiters.splice(0)) w();
        });

        const config: ConnectConfig = {
          host: host.ssh.host,
          port: host.ssh.port,
          username: host.ssh.user,
          privateKey,
          readyTimeout: this.opts.connectTimeoutMs,
          keepaliveInterval: this.opts.keepaliveIntervalMs,
          keepaliveCountMax: 3,
          tryKeyboard: false,
          algorithms: algorithmsFor(host.ssh.legacyAlgorithms === true),
          // Fail closed: anything but the pinned key (or no pin at all) aborts before auth.
          hostVerifier: (key: Buffer) => {
            received = fingerprintOf(key);
            const ok = expected.length > 0 && fingerprintsMatch(received, expected);
            if (!ok) hostKeyRejected = true;
            return ok;
          },
        };
        try {
          client.connect(config);
          // Applied by node as soon as the socket exists; measured equal to handing ssh2 our own socket.
          if (this.opts.noDelay) client.setNoDelay(true);
        } catch (err) {
          fail(toTyped(host, err));
        }
      });
    })();
    // Avoid an unhandled rejection when nobody awaits a failed connection (e.g. replaced by close()).
    conn.ready.catch(() => {});
    return conn;
  }

  private async privateKeyFor(host: HostConfig): Promise<Buffer | string> {
    if (host.ssh.privateKeyPath) {
      try {
        return await readFile(host.ssh.privateKeyPath);
      } catch (err) {
        throw new ConfigError(
          `${host.name}: cannot read ssh.privateKeyPath (${redact((err as NodeJS.ErrnoException).code ?? 'error')})`,
        );
      }
    }
    if (this.options.privateKey) return this.options.privateKey;
    throw new ConfigError(`${host.name}: no SSH private key (set ssh.privateKeyPath or the global SSH key)`);
  }

  /** Wait for a free channel slot on `conn` (OpenSSH refuses channels beyond MaxSessions). */
  private acquireSlot(conn: Conn, host: HostConfig, waitMs: number): Promise<() => void> {
    clearTimeout(conn.idleTimer);
    conn.idleTimer = undefined;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      conn.active--;
      const next = conn.waiters.shift();
      if (next) next();
      else if (conn.active === 0) this.armIdle(conn);
    };
    if (conn.active < this.opts.maxChannelsPerHost) {
      conn.active++;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const waiter = () => {
        clearTimeout(timer);
        if (conn.closed) return reject(new HostUnreachableError(host.name, 'connection closed'));
        conn.active++;
        resolve(release);
      };
      const timer = setTimeout(() => {
        const i = conn.waiters.indexOf(waiter);
        if (i !== -1) conn.waiters.splice(i, 1);
        reject(new SshTimeoutError(host.name, 'channel', waitMs));
      }, waitMs);
      conn.waiters.push(waiter);
    });
  }

  private armIdle(conn: Conn): void {
    if (conn.closed) return;
    clearTimeout(conn.idleTimer);
    conn.idleTimer = setTimeout(() => {
      if (conn.active > 0 || conn.closed) return;
      this.log.debug({ host: conn.hostName }, 'ssh connection idle, closing');
      if (this.pool.get(conn.hostName) === conn) this.pool.delete(conn.hostName);
      void this.endConn(conn);
    }, this.opts.idleCloseMs);
    // An idle pooled connection must not keep the process alive.
    conn.idleTimer.unref?.();
  }

  private openChannel(conn: Conn, host: HostConfig, command: string): Promise<ClientChannel> {
    const ms = this.opts.channelTimeoutMs;
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        // A connection that cannot open a channel in time is most likely half-dead: drop it.
        this.log.warn({ host: host.name, ms }, 'ssh channel open timed out; dropping connection');
        if (this.pool.get(host.name) === conn) this.pool.delete(host.name);
        void this.endConn(conn);
        reject(new SshTimeoutError(host.name, 'channel', ms));
      }, ms);
      try {
        conn.client.exec(command, (err, channel) => {
          if (settled) {
            if (channel) killChannel(channel);
            return;
          }
          settled = true;
          clearTimeout(timer);
          if (err) {
            if (conn.closed) return reject(new HostUnreachableError(host.name, 'connection lost'));
            return reject(new HostUnreachableError(host.name, `channel refused: ${redact(err.message)}`));
          }
          resolve(channel);
        });
      } catch (err) {
        settled = true;
        clearTimeout(timer);
        conn.closed = true;
        if (this.pool.get(host.name) === conn) this.pool.delete(host.name);
        reject(new HostUnreachableError(host.name, redact((err as Error).message)));
      }
    });
  }

  /** Collect output until exit, output cap or deadline; `release` frees the channel slot once the channel is gone. */
  private collect(
    conn: Conn,
    host: HostConfig,
    channel: ClientChannel,
    opts: ExecOptions,
    started: number,
    release: () => void,
  ): Promise<ExecResult> {
    const cap = Math.max(0, opts.maxOutputBytes ?? this.opts.defaultMaxOutputBytes);
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let bytes = 0;
      let truncated = false;
      let exitCode: number | null = null;
      let signal: string | undefined;
      let settled = false;

      const cleanup = () => {
        clearTimeout(deadline);
        conn.client.off('close', onLost);
      };
      const result = (): ExecResult => ({
        exitCode,
        ...(signal ? { signal } : {}),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        truncated,
      });
      const giveUp = () => {
        killChannel(channel);
        // Free the slot when the server confirms the close, or after a grace period if it never does.
        const grace = setTimeout(release, CLOSE_GRACE_MS);
        grace.unref?.();
        channel.once('close', () => {
          clearTimeout(grace);
          release();
        });
      };
      const onData = (sink: Buffer[]) => (chunk: Buffer) => {
        if (settled) return;
        const room = cap - bytes;
        if (chunk.length <= room) {
          sink.push(chunk);
          bytes += chunk.length;
          return;
        }
        if (room > 0) sink.push(chunk.subarray(0, room));
        bytes = cap;
        truncated = true;
        settled = true;
        cleanup();
        giveUp();
        resolve(result());
      };
      const onLost = () => {
        if (settled) return;
        settled = true;
        cleanup();
        release();
        reject(new HostUnreachableError(host.name, 'connection lost during command'));
      };

      channel.on('data', onData(out));
      channel.stderr.on('data', onData(err));
      channel.on('exit', (code: number | null, sig?: string) => {
        exitCode = typeof code === 'number' ? code : null;
        if (sig) signal = sig.replace(/^SIG/, '');
      });
      channel.on('close', () => {
        if (settled) return;
        settled = true;
        cleanup();
        release();
        resolve(result());
      });
      conn.client.once('close', onLost);
      const deadline = setTimeout(() => {
        if (settled) return;
        settled = true;
        cleanup();
        giveUp();
        reject(new SshTimeoutError(host.name, 'command', opts.timeoutMs));
      }, opts.timeoutMs);
    });
  }

  private endConn(conn: Conn): Promise<void> {
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
}

/**
 * Make the remote command die: ask sshd to signal the session (refused by some servers, e.g. for
 * root logins), then close the channel, whose stdin EOF makes the wrapper's watchdog kill the group.
 */
function killChannel(channel: ClientChannel): void {
  try {
    channel.signal('TERM');
  } catch {
    /* channel already closing */
  }
  try {
    channel.close();
  } catch {
    /* already closed */
  }
}
