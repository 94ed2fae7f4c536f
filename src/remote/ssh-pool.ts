/**
 * The per-host connection pool (keyed by host.name): a connection is reused while open and its
 * inventory entry unchanged, carries at most `maxChannelsPerHost` channels at once (more wait),
 * is closed after `idleCloseMs` without channels and re-created after an error or close.
 */
import type { ClientChannel } from 'ssh2';
import type { HostConfig } from '../domain/host.js';
import { HostUnreachableError, SshTimeoutError } from '../domain/errors.js';
import { redact } from '../util/redact.js';
import { killChannel } from './ssh-channel.js';
import { connectionSignature, endConnection, openConnection, type Conn, type ConnectSettings, type RunnerLogger } from './ssh-connect.js';

/** Pool limits and timings (from SshRunnerOptions, defaults applied). */
export interface PoolSettings extends ConnectSettings {
  channelTimeoutMs: number;
  idleCloseMs: number;
  maxChannelsPerHost: number;
}

/** Pooled connections and their channel slots. */
export class SshPool {
  private readonly pool = new Map<string, Conn>();

  constructor(
    private readonly settings: PoolSettings,
    private readonly log: RunnerLogger,
    private readonly onConnect?: (host: string) => void,
  ) {}

  /** Number of pooled connections currently open or opening. */
  get size(): number {
    return this.pool.size;
  }

  /** Pooled connection for `host`, opening one if there is none (or the inventory entry changed). */
  async connection(host: HostConfig): Promise<Conn> {
    const signature = connectionSignature(host);
    const existing = this.pool.get(host.name);
    if (existing && !existing.closed && existing.signature === signature) {
      await existing.ready;
      return existing;
    }
    if (existing) {
      this.pool.delete(host.name);
      void endConnection(existing);
    }
    const conn = openConnection(host, signature, this.settings, {
      log: this.log,
      ...(this.onConnect ? { onConnect: this.onConnect } : {}),
      onClose: (c) => this.forget(c),
    });
    this.pool.set(host.name, conn);
    try {
      await conn.ready;
    } catch (err) {
      this.forget(conn);
      throw err;
    }
    return conn;
  }

  /** Close every pooled connection; later calls open new ones. */
  async close(): Promise<void> {
    const conns = [...this.pool.values()];
    this.pool.clear();
    await Promise.all(conns.map((c) => endConnection(c)));
  }

  /** Wait for a free channel slot on `conn` (OpenSSH refuses channels beyond MaxSessions). */
  acquireSlot(conn: Conn, host: HostConfig, waitMs: number): Promise<() => void> {
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
    if (conn.active < this.settings.maxChannelsPerHost) {
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

  /** Open a session channel running `command`; a connection that cannot do so in time is dropped. */
  openChannel(conn: Conn, host: HostConfig, command: string): Promise<ClientChannel> {
    const ms = this.settings.channelTimeoutMs;
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        // A connection that cannot open a channel in time is most likely half-dead: drop it.
        this.log.warn({ host: host.name, ms }, 'ssh channel open timed out; dropping connection');
        this.forget(conn);
        void endConnection(conn);
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
        this.forget(conn);
        reject(new HostUnreachableError(host.name, redact((err as Error).message)));
      }
    });
  }

  /** Take `conn` out of the pool if it is still the host's connection. */
  private forget(conn: Conn): void {
    if (this.pool.get(conn.hostName) === conn) this.pool.delete(conn.hostName);
  }

  private armIdle(conn: Conn): void {
    if (conn.closed) return;
    clearTimeout(conn.idleTimer);
    conn.idleTimer = setTimeout(() => {
      if (conn.active > 0 || conn.closed) return;
      this.log.debug({ host: conn.hostName }, 'ssh connection idle, closing');
      this.forget(conn);
      void endConnection(conn);
    }, this.settings.idleCloseMs);
    // An idle pooled connection must not keep the process alive.
    conn.idleTimer.unref?.();
  }
}
