/**
 * A long-lived command's stdout as whole lines (log follow: `tail -F`, `journalctl -f`), with runaway
 * lines cut at a bound, and a stop() that kills the remote command without hanging on the server.
 */
import type { ClientChannel } from 'ssh2';
import type { HostConfig } from '../domain/host.js';
import { redact } from '../util/redact.js';
import { CLOSE_GRACE_MS, killChannel } from './ssh-channel.js';
import type { Conn, RunnerLogger } from './ssh-connect.js';

/** A running stream: stop() ends it; done resolves (never rejects) once the channel is gone. */
export interface LineStream {
  stop(): void;
  done: Promise<void>;
}

/**
 * Splits chunks into lines for `emit`. A line longer than `maxLine` bytes is emitted cut there, and
 * the rest of it up to its newline is dropped instead of being emitted as fragments.
 */
class LineSplitter {
  private pending = '';
  private skipping = false;

  constructor(
    private readonly maxLine: number,
    private readonly emit: (line: string) => void,
  ) {}

  push(chunk: string): void {
    this.pending += chunk;
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) !== -1) {
      if (!this.skipping) this.emit(this.pending.slice(0, nl));
      this.skipping = false;
      this.pending = this.pending.slice(nl + 1);
    }
    // A line without newline must not grow without bound.
    if (this.skipping) {
      this.pending = '';
    } else if (Buffer.byteLength(this.pending) > this.maxLine) {
      this.emit(Buffer.from(this.pending).subarray(0, this.maxLine).toString('utf8'));
      this.pending = '';
      this.skipping = true;
    }
  }

  /** The stream ended: emit a last line without newline (unless `drop`), and forget it. */
  end(drop: boolean): void {
    if (this.pending && !drop && !this.skipping) this.emit(this.pending);
    this.pending = '';
  }
}

/**
 * Call onLine for each stdout line of `channel`; stderr is only logged (debug). done resolves after
 * stop(), when the command exits, or when the connection drops; `release` frees the slot then.
 */
export function streamLines(
  conn: Conn,
  host: HostConfig,
  channel: ClientChannel,
  release: () => void,
  onLine: (line: string) => void,
  maxLine: number,
  log: RunnerLogger,
): LineStream {
  let stopped = false;
  const lines = new LineSplitter(maxLine, (line) => {
    try {
      onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    } catch (err) {
      log.warn({ host: host.name, err: redact(String(err)) }, 'stream onLine handler threw');
    }
  });
  channel.setEncoding('utf8');
  channel.on('data', (chunk: string) => {
    if (!stopped) lines.push(chunk);
  });
  channel.stderr.setEncoding('utf8');
  channel.stderr.on('data', (chunk: string) => {
    log.debug({ host: host.name, stderr: redact(chunk.slice(0, 500)) }, 'stream stderr');
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
      lines.end(stopped);
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
