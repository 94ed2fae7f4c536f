/**
 * Puts a foreign program on a loopback port (`python3 -m http.server`, as in the real
 * reproduction) so the gateway meets EADDRINUSE and `gateway status` meets an HTTP 200.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isListening, waitUntil } from './net-util.js';

/** A foreign listener started by the harness. */
export interface PortOccupant {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** Start `python3 -m http.server <port> --bind 127.0.0.1` in an empty temp dir and wait until it listens. */
export async function occupyPort(port: number): Promise<PortOccupant> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'clawmedic-port-'));
  const child = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  let exited = false;
  const exitP = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  await waitUntil(
    `python3 http.server on 127.0.0.1:${port}`,
    async () => {
      if (exited) throw new Error(`python3 http.server exited: ${stderr}`);
      return isListening(port);
    },
    15_000,
    100,
  );
  if (child.pid === undefined) throw new Error('python3 has no pid');
  return {
    pid: child.pid,
    port,
    async stop() {
      if (!exited) child.kill('SIGTERM');
      await exitP;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
