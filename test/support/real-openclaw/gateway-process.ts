/**
 * A real `openclaw gateway run` in the foreground, as a child of the test process: its stdout,
 * its readiness, and the ways a gateway stops in the field (SIGTERM, kill -9, failing to start).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { waitUntil } from './net-util.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** How a gateway process ended. */
export interface GatewayExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running (or finished) `openclaw gateway run`. */
export class GatewayProcess {
  private out = '';
  private exitInfo: GatewayExit | undefined;
  private readonly exited: Promise<GatewayExit>;
  /** When spawn() was called (ms epoch); bootMs is measured from here. */
  readonly startedAt = Date.now();
  /** Milliseconds from spawn to `[gateway] ready` once waitReady() saw it. */
  bootMs: number | undefined;

  constructor(private readonly child: ChildProcess) {
    const onData = (d: Buffer): void => {
      this.out += d.toString('utf8').replace(ANSI, '');
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  /** Spawn `node <entry> gateway run ...args` with `env` (detached: its own process group). */
  static spawn(nodeBin: string, entry: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): GatewayProcess {
    const child = spawn(nodeBin, [entry, 'gateway', 'run', ...args], {
      env,
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return new GatewayProcess(child);
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('gateway process has no pid (spawn failed)');
    return this.child.pid;
  }

  /** stdout+stderr so far, ANSI colours stripped. */
  output(): string {
    return this.out;
  }

  /**
   * The file log path the gateway printed at start (`[gateway] log file: …`), if seen yet.
   * Why not compute it: 2026.9.6 falls back to /tmp/openclaw-<uid>/ when /tmp/openclaw is not ours.
   */
  logFile(): string | undefined {
    return /\[gateway\] log file: (\S+)/.exec(this.out)?.[1];
  }

  /** undefined while running. */
  exit(): GatewayExit | undefined {
    return this.exitInfo;
  }

  /** Wait for a line of stdout matching `re`. Fails early if the process exits first. */
  async waitForOutput(re: RegExp, timeoutMs = 60_000): Promise<string> {
    return waitUntil(
      `gateway output ${re}`,
      () => {
        const m = re.exec(this.out);
        if (m) return m[0];
        if (this.exitInfo) {
          throw new Error(`gateway exited (${JSON.stringify(this.exitInfo)}) before ${re}:\n${this.out.slice(-3000)}`);
        }
        return undefined;
      },
      timeoutMs,
      100,
    );
  }

  /**
   * Wait for `[gateway] ready`: before it, connects may be closed with 1013 `gateway starting`.
   * Records bootMs.
   */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    try {
      await this.waitForOutput(/\[gateway\] ready/, timeoutMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- gateway output ---\n${this.out.slice(-4000)}`);
    }
    this.bootMs ??= Date.now() - this.startedAt;
  }

  /** Wait for the process to end (or throw after timeoutMs). */
  async waitExit(timeoutMs = 60_000): Promise<GatewayExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`gateway pid ${this.child.pid} still running after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Clean stop, as a supervisor does it: SIGTERM, then wait (≈ 0.1–2.5 s). */
  async stop(timeoutMs = 30_000): Promise<GatewayExit> {
    if (this.exitInfo) return this.exitInfo;
    this.child.kill('SIGTERM');
    return this.waitExit(timeoutMs);
  }

  /** A crash: SIGKILL to the gateway process only (its helpers are reaped by dispose()). */
  async kill9(): Promise<GatewayExit> {
    if (this.exitInfo) return this.exitInfo;
    this.child.kill('SIGKILL');
    return this.waitExit(10_000);
  }

  /** Kill whatever is left of the process group this harness started (helpers after a kill -9). */
  dispose(): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      /* group already gone */
    }
  }
}
