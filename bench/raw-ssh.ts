/**
 * The baseline transport of the benchmarks: a bare ssh2 Client (no pool, no wrapper script, no
 * deadlines, no output cap) that runs one command and collects its output. What clawmedic adds
 * on top of ssh2 is measured against this.
 */
import { readFile } from 'node:fs/promises';
import { Client } from 'ssh2';
import type { HostConfig } from '../src/domain/host.js';
import { fingerprintOf, fingerprintsMatch } from '../src/remote/host-key.js';

/** Output of one raw exec. */
export interface RawExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One open ssh2 connection to a host, run commands on it one after another or in parallel. */
export class RawSsh {
  private constructor(private readonly client: Client) {}

  /** Connect (TCP + handshake + host-key check + publickey auth) with Nagle off unless `noDelay` is false. */
  static async connect(host: HostConfig, opts: { noDelay?: boolean } = {}): Promise<RawSsh> {
    const privateKey = await readFile(host.ssh.privateKeyPath!);
    const client = new Client();
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', reject);
      client.connect({
        host: host.ssh.host,
        port: host.ssh.port,
        username: host.ssh.user,
        privateKey,
        readyTimeout: 10_000,
        // Same pin check the runner does (one sha256), so the handshakes compare like for like.
        hostVerifier: (key: Buffer) => fingerprintsMatch(fingerprintOf(key), host.ssh.hostKeyFingerprint),
      });
      if (opts.noDelay !== false) client.setNoDelay(true);
    });
    return new RawSsh(client);
  }

  /** exec `command` on a new channel and resolve once the channel closed. */
  exec(command: string): Promise<RawExecResult> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, ch) => {
        if (err) return reject(err);
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | null = null;
        ch.on('data', (d: Buffer) => out.push(d));
        ch.stderr.on('data', (d: Buffer) => errOut.push(d));
        ch.on('exit', (c: number | null) => {
          code = typeof c === 'number' ? c : null;
        });
        ch.on('close', () =>
          resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8') }),
        );
      });
    });
  }

  /** End the connection and wait until the socket is closed. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.client.once('close', () => resolve());
      this.client.end();
    });
  }
}
