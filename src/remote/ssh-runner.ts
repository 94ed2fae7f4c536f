/**
 * The SSH transport: runs fixed scripts on inventory hosts over ssh2 with one pooled connection
 * per host, host-key pinning that fails closed, separate connect/channel/command deadlines and an output cap.
 * The parts live beside it: the handshake (ssh-connect.ts), the pool and channel slots (ssh-pool.ts),
 * one command's output (exec-output.ts) and a followed command's lines (line-stream.ts).
 */
import type { ClientChannel } from 'ssh2';
import type { HostConfig } from '../domain/host.js';
import type { ExecOptions, ExecResult, RemoteRunner } from '../domain/remote.js';
import { collectOutput } from './exec-output.js';
import { streamLines, type LineStream } from './line-stream.js';
import { toTyped, type Conn, type RunnerLogger } from './ssh-connect.js';
import { SshPool, type PoolSettings } from './ssh-pool.js';
import { wrapRemoteScript } from './remote-wrapper.js';

export type { RunnerLogger } from './ssh-connect.js';

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

const noopLogger: RunnerLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** The pool's settings from the runner's options, defaults applied. */
function poolSettings(options: SshRunnerOptions): PoolSettings {
  return {
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    channelTimeoutMs: options.channelTimeoutMs ?? DEFAULTS.channelTimeoutMs,
    idleCloseMs: options.idleCloseMs ?? DEFAULTS.idleCloseMs,
    maxChannelsPerHost: Math.max(1, options.maxChannelsPerHost ?? DEFAULTS.maxChannelsPerHost),
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? DEFAULTS.keepaliveIntervalMs,
    noDelay: options.noDelay ?? DEFAULTS.noDelay,
    ...(options.privateKey ? { privateKey: options.privateKey } : {}),
  };
}

/**
 * RemoteRunner over ssh2 with a per-host connection pool (keyed by host.name), reused while open,
 * closed after `idleCloseMs` without channels and re-created after an error or close.
 */
export class SshRunner implements RemoteRunner {
  private readonly log: RunnerLogger;
  private readonly pool: SshPool;
  private readonly settings: PoolSettings;
  private readonly defaultMaxOutputBytes: number;
  private readonly maxLineBytes: number;

  constructor(private readonly options: SshRunnerOptions = {}) {
    this.log = options.logger ?? noopLogger;
    this.settings = poolSettings(options);
    this.defaultMaxOutputBytes = options.defaultMaxOutputBytes ?? DEFAULTS.defaultMaxOutputBytes;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULTS.maxLineBytes;
    this.pool = new SshPool(this.settings, this.log, options.onConnect);
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
      const remoteDeadlineS = Math.ceil(opts.timeoutMs / 1000) + REMOTE_DEADLINE_SLACK_S;
      const { conn, channel, release } = await this.open(host, wrapRemoteScript(script, remoteDeadlineS), opts.timeoutMs);
      // From here collectOutput() owns the slot and frees it once the channel is really gone.
      const cap = Math.max(0, opts.maxOutputBytes ?? this.defaultMaxOutputBytes);
      const result = await collectOutput(conn, host, channel, opts, cap, started, release);
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
  async stream(host: HostConfig, script: string, onLine: (line: string) => void): Promise<LineStream> {
    let opened: { conn: Conn; channel: ClientChannel; release: () => void };
    try {
      opened = await this.open(host, wrapRemoteScript(script, 0), this.settings.channelTimeoutMs);
    } catch (err) {
      throw toTyped(host, err);
    }
    return streamLines(opened.conn, host, opened.channel, opened.release, onLine, this.maxLineBytes, this.log);
  }

  /** Close every pooled connection; later exec() calls open new ones. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** A pooled connection, a channel slot on it (waiting at most `slotWaitMs`) and a channel running `command`. */
  private async open(host: HostConfig, command: string, slotWaitMs: number): Promise<{ conn: Conn; channel: ClientChannel; release: () => void }> {
    const conn = await this.pool.connection(host);
    const release = await this.pool.acquireSlot(conn, host, slotWaitMs);
    try {
      return { conn, channel: await this.pool.openChannel(conn, host, command), release };
    } catch (err) {
      release();
      throw err;
    }
  }
}
