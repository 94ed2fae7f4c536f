/**
 * The contract between workers and the SSH transport (src/remote/). A script is always built
 * from fixed templates in src/openclaw/ with arguments quoted by util/shell-quote; it never
 * contains text typed in a chat.
 */
import type { HostConfig } from './host.js';

export interface ExecOptions {
  /** Kill the remote command and fail with SshTimeoutError after this long. */
  timeoutMs: number;
  /** Stop reading after this many bytes of stdout+stderr; the result is marked truncated. */
  maxOutputBytes?: number;
}

export interface ExecResult {
  exitCode: number | null;
  /** Signal name when the remote command was killed. */
  signal?: string;
  stdout: string;
  stderr: string;
  durationMs: number;
  truncated: boolean;
}

/** Runs fixed scripts on inventory hosts over SSH. */
export interface RemoteRunner {
  exec(host: HostConfig, script: string, opts: ExecOptions): Promise<ExecResult>;
  /** Long-running stream (log follow): calls onLine per line until the returned stop() is called or the stream ends. */
  stream?(
    host: HostConfig,
    script: string,
    onLine: (line: string) => void,
  ): Promise<{ stop(): void; done: Promise<void> }>;
  close(): Promise<void>;
}
