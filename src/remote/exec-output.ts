/** Collecting one command's output: until it exits, the output cap is reached, the deadline passes or the connection drops. */
import type { ClientChannel } from 'ssh2';
import type { HostConfig } from '../domain/host.js';
import type { ExecOptions, ExecResult } from '../domain/remote.js';
import { HostUnreachableError, SshTimeoutError } from '../domain/errors.js';
import { killAndRelease } from './ssh-channel.js';
import type { Conn } from './ssh-connect.js';

/** What has come back so far. */
interface Captured {
  out: Buffer[];
  err: Buffer[];
  truncated: boolean;
  exitCode: number | null;
  signal?: string;
}

function resultOf(c: Captured, started: number): ExecResult {
  return {
    exitCode: c.exitCode,
    ...(c.signal ? { signal: c.signal } : {}),
    stdout: Buffer.concat(c.out).toString('utf8'),
    stderr: Buffer.concat(c.err).toString('utf8'),
    durationMs: Math.round((performance.now() - started) * 10) / 10,
    truncated: c.truncated,
  };
}

/**
 * Collect output (stdout+stderr up to `cap` bytes) until exit, output cap or deadline; `release` frees
 * the channel slot once the channel is gone.
 */
export function collectOutput(
  conn: Conn,
  host: HostConfig,
  channel: ClientChannel,
  opts: ExecOptions,
  cap: number,
  started: number,
  release: () => void,
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const c: Captured = { out: [], err: [], truncated: false, exitCode: null };
    let bytes = 0;
    let settled = false;

    const cleanup = () => {
      clearTimeout(deadline);
      conn.client.off('close', onLost);
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
      c.truncated = true;
      settled = true;
      cleanup();
      killAndRelease(channel, release);
      resolve(resultOf(c, started));
    };
    const onLost = () => {
      if (settled) return;
      settled = true;
      cleanup();
      release();
      reject(new HostUnreachableError(host.name, 'connection lost during command'));
    };

    channel.on('data', onData(c.out));
    channel.stderr.on('data', onData(c.err));
    channel.on('exit', (code: number | null, sig?: string) => {
      c.exitCode = typeof code === 'number' ? code : null;
      if (sig) c.signal = sig.replace(/^SIG/, '');
    });
    channel.on('close', () => {
      if (settled) return;
      settled = true;
      cleanup();
      release();
      resolve(resultOf(c, started));
    });
    conn.client.once('close', onLost);
    const deadline = setTimeout(() => {
      if (settled) return;
      settled = true;
      cleanup();
      killAndRelease(channel, release);
      reject(new SshTimeoutError(host.name, 'command', opts.timeoutMs));
    }, opts.timeoutMs);
  });
}
