/**
 * Follows one host's gateway log over SSH and hands each new line on. Reconnects with randomized
 * backoff when the stream ends (connection loss, host reboot, tail exit), and resumes from the last
 * line it processed (time + hash), so a reconnect neither loses nor re-alerts on lines already seen.
 */
import { createHash } from 'node:crypto';
import type { HostConfig } from '../domain/host.js';
import type { RemoteRunner } from '../domain/remote.js';
import type { Logger } from '../util/logger.js';
import { detach } from '../util/detach.js';
import { redact } from '../util/redact.js';
import { MONITOR_DEFAULTS } from '../constants.js';
import { buildFollowScript, FOLLOW_MARK, lineTime } from './follow-script.js';
import type { ResumePosition } from '../state/incident-store.js';

export interface FollowerOptions {
  host: HostConfig;
  runner: RemoteRunner;
  logger: Pick<Logger, 'debug' | 'info' | 'warn'>;
  /** Where to start: the position saved by the previous owner of this host (undefined: the log's tail). */
  resume?: ResumePosition;
  /** The log file path learned before (saves a `gateway status` per reconnect). */
  logFile?: string;
  onLogFile?(path: string): void;
  /** A new line (already past the resume position). */
  onLine(line: string, receivedAt: number): void;
  /** The stream connected / ended (for status and host reachability hints). */
  onState?(state: 'connected' | 'disconnected', error?: string): void;
  backlogLines?: number;
  rollCheckSec?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

const MAX_HASHES = 50;

/** Short hash of a line, to tell lines with the same timestamp apart. */
export function lineHash(line: string): string {
  return createHash('sha1').update(line).digest('base64url').slice(0, 12);
}

/**
 * Pure resume filter: during replay (right after connecting) lines at or before the saved position
 * are skipped; the first newer line ends the replay. Returns whether to process the line.
 */
export class ResumeFilter {
  private replaying = true;
  constructor(public position: ResumePosition | undefined) {}

  /** Start a new replay (a reconnect replays the log's tail again). */
  restart(): void {
    this.replaying = true;
  }

  accept(line: string): boolean {
    const t = lineTime(line);
    const pos = this.position;
    if (t === undefined) return !this.replaying || pos === undefined;
    const h = lineHash(line);
    if (this.replaying && pos) {
      if (t < pos.ms) return false;
      if (t === pos.ms && pos.hashes.includes(h)) return false;
    }
    this.replaying = false;
    if (!pos || t > pos.ms) this.position = { ms: t, hashes: [h] };
    else if (t === pos.ms && !pos.hashes.includes(h)) {
      pos.hashes.push(h);
      if (pos.hashes.length > MAX_HASHES) pos.hashes.shift();
    }
    return true;
  }
}

export class LogFollower {
  private stopped = false;
  private current?: { stop(): void; done: Promise<void> };
  private wake?: () => void;
  private loop?: Promise<void>;
  private readonly filter: ResumeFilter;
  private logFile?: string;
  /** Streams opened so far (tests and metrics). */
  connects = 0;

  constructor(private readonly opts: FollowerOptions) {
    this.filter = new ResumeFilter(opts.resume);
    this.logFile = opts.logFile;
  }

  /** The resume position after the last processed line. */
  get position(): ResumePosition | undefined {
    return this.filter.position;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.stop();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { host, runner } = this.opts;
    const min = this.opts.backoffMinMs ?? MONITOR_DEFAULTS.backoffMinMs;
    const max = this.opts.backoffMaxMs ?? MONITOR_DEFAULTS.backoffMaxMs;
    let backoff = min;
    while (!this.stopped) {
      if (!runner.stream) throw new Error('the remote runner cannot stream');
      const script = buildFollowScript(host, {
        logFile: this.logFile,
        resume: this.filter.position,
        backlogLines: this.opts.backlogLines ?? MONITOR_DEFAULTS.backlogLines,
        rollCheckSec: this.opts.rollCheckSec ?? MONITOR_DEFAULTS.rollCheckSec,
      });
      this.filter.restart();
      const started = Date.now();
      let error: string | undefined;
      try {
        this.current = await runner.stream(host, script, (line) => this.handle(line));
        this.connects++;
        this.opts.onState?.('connected');
        if (this.stopped) this.current.stop();
        await this.current.done;
      } catch (err) {
        error = redact(err instanceof Error ? err.message : String(err));
      }
      this.current = undefined;
      if (this.stopped) break;
      this.opts.onState?.('disconnected', error);
      if (Date.now() - started >= MONITOR_DEFAULTS.backoffResetMs) backoff = min;
      // Randomized so many followers of one flapping network do not reconnect in lockstep.
      const wait = backoff / 2 + Math.random() * (backoff / 2);
      this.opts.logger.debug({ host: host.name, error, waitMs: Math.round(wait) }, 'log follower reconnecting');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
      backoff = Math.min(max, backoff * 2);
    }
  }

  private handle(line: string): void {
    if (line.startsWith(FOLLOW_MARK)) {
      const rest = line.slice(FOLLOW_MARK.length);
      if (rest.startsWith('logfile=')) {
        const path = rest.slice(8).trim();
        if (path && path !== this.logFile) {
          this.logFile = path;
          this.opts.onLogFile?.(path);
        }
      } else if (rest === 'nolog') {
        this.opts.logger.warn({ host: this.opts.host.name }, 'no gateway log file found on the host; retrying');
      }
      return;
    }
    if (!line || !this.filter.accept(line)) return;
    // A flat copy: a slice of the SSH data chunk would keep the whole chunk (up to 64 KB) alive for as
    // long as anything taken from the line (a conn id in an incident) is kept.
    this.opts.onLine(detach(line), Date.now());
  }
}
