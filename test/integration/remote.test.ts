/**
 * SshRunner and fetchHostKeyFingerprint against a real OpenSSH sshd started by the suite
 * (test/support/sshd.ts): pinning, error mapping, deadlines that really kill, output cap, pool, streams.
 */
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HostKeyMismatchError,
  HostUnreachableError,
  SshAuthError,
  SshTimeoutError,
} from '../../src/domain/errors.js';
import type { HostConfig } from '../../src/domain/host.js';
import { Client } from 'ssh2';
import { fetchHostKeyFingerprint } from '../../src/remote/fetch-fingerprint.js';
import { wrapRemoteScript } from '../../src/remote/remote-wrapper.js';
import { SshRunner } from '../../src/remote/ssh-runner.js';
import { shellQuote } from '../../src/util/shell-quote.js';
import { hostConfigFor, startSshd, type SshdHandle } from '../support/sshd.js';

let sshd: SshdHandle;
let host: HostConfig;
let work: string;
const runners: SshRunner[] = [];

/** A runner that the suite closes in afterAll, counting new connections. */
function makeRunner(opts: ConstructorParameters<typeof SshRunner>[0] = {}): { runner: SshRunner; connects: () => number } {
  let n = 0;
  const runner = new SshRunner({ privateKey: sshd.privateKey, onConnect: () => n++, ...opts });
  runners.push(runner);
  return { runner, connects: () => n };
}

/** Linux process state of `pid`: "gone" when it no longer exists; "Z" is a zombie (dead, not yet reaped). */
function procState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? 'gone';
  } catch {
    return 'gone';
  }
}
const isDead = (pid: number) => ['gone', 'Z', 'X'].includes(procState(pid));

async function waitFor(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function readPid(file: string): Promise<number> {
  await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').trim() !== '', 3000);
  return Number((await readFile(file, 'utf8')).trim());
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 1));
    });
  });
}

beforeAll(async () => {
  sshd = await startSshd();
  host = hostConfigFor(sshd);
  work = path.join(sshd.tmpDir, 'work');
  await mkdir(work);
});

afterAll(async () => {
  await Promise.all(runners.map((r) => r.close()));
  await sshd?.stop();
});

describe('SshRunner.exec on a real sshd', () => {
  it('returns stdout, stderr and the exit code', async () => {
    const { runner } = makeRunner();
    const r = await runner.exec(host, 'echo out; echo err >&2; exit 7', { timeoutMs: 5000 });
    expect(r).toMatchObject({ exitCode: 7, stdout: 'out\n', stderr: 'err\n', truncated: false });
    expect(r.signal).toBeUndefined();
    expect(r.durationMs).toBeGreaterThan(0);
  });

  it('uses the global key when the host has no privateKeyPath, and runs without a login shell', async () => {
    const { runner } = makeRunner();
    const h = hostConfigFor(sshd, { name: 'globalkey' });
    delete h.ssh.privateKeyPath;
    // The session leader is what sshd started: `$SHELL -c ...`; a login shell would show as "-bash".
    const r = await runner.exec(h, 'ps -o args= -p "$(ps -o sid= -p $$ | tr -d " ")"', { timeoutMs: 5000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^\S*sh -c /);
    expect(r.stdout.startsWith('-')).toBe(false);
  });

  it('reuses one warm connection for consecutive and concurrent commands', async () => {
    const { runner, connects } = makeRunner({ maxChannelsPerHost: 4 });
    const before = sshd.acceptedConnections();
    await runner.exec(host, 'true', { timeoutMs: 5000 });
    await runner.exec(host, 'true', { timeoutMs: 5000 });
    // 10 at once with 4 channel slots: the rest queue on the same connection instead of failing.
    const many = await Promise.all(
      Array.from({ length: 10 }, (_, i) => runner.exec(host, `sleep 0.1; echo ${i}`, { timeoutMs: 5000 })),
    );
    expect(many.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    expect(connects()).toBe(1);
    expect(runner.openConnections).toBe(1);
    // And the server saw exactly one authenticated connection from this runner.
    expect(await waitFor(() => sshd.acceptedConnections() === before + 1, 2000)).toBe(true);
  });

  it('keeps a warm echo fast: TCP_NODELAY saves the ~40 ms delayed-ACK stall per command', async () => {
    const medianWarmEcho = async (noDelay: boolean): Promise<number> => {
      const { runner } = makeRunner({ noDelay });
      await runner.exec(host, 'echo warm', { timeoutMs: 5000 });
      const times: number[] = [];
      for (let i = 0; i < 15; i++) {
        const t0 = performance.now();
        await runner.exec(host, 'echo hi', { timeoutMs: 5000 });
        times.push(performance.now() - t0);
      }
      await runner.close();
      return times.sort((a, b) => a - b)[7]!;
    };
    const fast = await medianWarmEcho(true);
    const nagle = await medianWarmEcho(false);
    // A relative check survives a loaded CI machine; the stall is a fixed ~40 ms timer.
    expect(nagle - fast).toBeGreaterThan(25);
  });

  it('refuses a host whose key does not match the pin, naming both fingerprints, before running anything', async () => {
    const { runner, connects } = makeRunner();
    const marker = path.join(work, 'mismatch-marker');
    const wrongPin = hostConfigFor(sshd, {
      name: 'wrongpin',
      ssh: { ...host.ssh, hostKeyFingerprint: sshd.otherHostKeyFingerprint },
    });
    const err = await runner.exec(wrongPin, `touch ${shellQuote(marker)}`, { timeoutMs: 5000 }).catch((e) => e);
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect(err.message).toContain(sshd.otherHostKeyFingerprint);
    expect(err.message).toContain(sshd.hostKeyFingerprint);
    expect(err.transient).toBe(false);
    expect(connects()).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(marker)).toBe(false);

    // An empty pin fails closed too.
    const noPin = hostConfigFor(sshd, { name: 'nopin', ssh: { ...host.ssh, hostKeyFingerprint: '' } });
    await expect(runner.exec(noPin, `touch ${shellQuote(marker)}`, { timeoutMs: 5000 })).rejects.toBeInstanceOf(
      HostKeyMismatchError,
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('reports a closed port as HostUnreachableError, fast', async () => {
    const { runner } = makeRunner();
    const h = hostConfigFor(sshd, { name: 'closed', ssh: { ...host.ssh, port: await closedPort() } });
    const t0 = Date.now();
    const err = await runner.exec(h, 'true', { timeoutMs: 5000 }).catch((e) => e);
    expect(err).toBeInstanceOf(HostUnreachableError);
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.transient).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('reports a silent peer as SshTimeoutError("connect")', async () => {
    // Accepts TCP but never speaks SSH.
    const silent = net.createServer(() => {}).listen(0, '127.0.0.1');
    await new Promise((r) => silent.once('listening', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const { runner } = makeRunner({ connectTimeoutMs: 400 });
      const h = hostConfigFor(sshd, { name: 'silent', ssh: { ...host.ssh, port } });
      const err = await runner.exec(h, 'true', { timeoutMs: 5000 }).catch((e) => e);
      expect(err).toBeInstanceOf(SshTimeoutError);
      expect(err.message).toContain('connect');
    } finally {
      silent.close();
    }
  });

  it('reports a refused key as SshAuthError without leaking key material', async () => {
    const { runner } = makeRunner({ privateKey: sshd.otherPrivateKey });
    const h = hostConfigFor(sshd, { name: 'badkey' });
    delete h.ssh.privateKeyPath;
    const err = await runner.exec(h, 'true', { timeoutMs: 5000 }).catch((e) => e);
    expect(err).toBeInstanceOf(SshAuthError);
    expect(err.message).toContain(sshd.user);
    expect(err.message).not.toMatch(/PRIVATE KEY|AAAA/);
  });

  it('kills a hung command at the deadline: SshTimeoutError and the remote processes are gone', async () => {
    const { runner } = makeRunner();
    const p1 = path.join(work, 'hung-1.pid');
    const p2 = path.join(work, 'hung-2.pid');
    // One plain sleeper and one that ignores TERM (it must get KILLed).
    const script = `sleep 300 & echo $! > ${shellQuote(p1)}; (trap '' TERM; exec sleep 301) & echo $! > ${shellQuote(p2)}; wait`;
    const t0 = Date.now();
    const err = await runner.exec(host, script, { timeoutMs: 1000 }).catch((e) => e);
    const elapsed = Date.now() - t0;
    expect(err).toBeInstanceOf(SshTimeoutError);
    expect(err.message).toContain('command');
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(2000);
    const pid1 = await readPid(p1);
    const pid2 = await readPid(p2);
    expect(pid1).toBeGreaterThan(1);
    expect(pid2).toBeGreaterThan(1);
    expect(await waitFor(() => isDead(pid1), 1500)).toBe(true);
    expect(await waitFor(() => isDead(pid2), 4000)).toBe(true);
    // The connection is still usable afterwards.
    expect((await runner.exec(host, 'echo alive', { timeoutMs: 5000 })).stdout).toBe('alive\n');
  });

  it('leaves a daemon the script started in the background running after a normal exit', async () => {
    // `supervisor: commands` start scripts may background the gateway: finishing must not kill it.
    const { runner } = makeRunner();
    const pidFile = path.join(work, 'daemon.pid');
    const r = await runner.exec(host, `sleep 30 >/dev/null 2>&1 & echo $! > ${shellQuote(pidFile)}; echo started`, {
      timeoutMs: 5000,
    });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'started\n' });
    const pid = await readPid(pidFile);
    // Longer than the watchdog's TERM→KILL grace and the remote deadline slack would take to act.
    await new Promise((res) => setTimeout(res, 2500));
    expect(isDead(pid)).toBe(false);
    process.kill(pid, 'SIGKILL');
  });

  it('the remote-side deadline kills the command even if the client never closes the channel', async () => {
    const pidFile = path.join(work, 'remote-deadline.pid');
    const client = new Client();
    await new Promise<void>((resolve, reject) => {
      client.on('ready', resolve).on('error', reject);
      client.connect({ host: sshd.host, port: sshd.port, username: sshd.user, privateKey: sshd.privateKey });
    });
    try {
      const t0 = Date.now();
      const exit = await new Promise<{ code: unknown; signal: unknown }>((resolve, reject) => {
        client.exec(wrapRemoteScript(`sleep 300 & echo $! > ${shellQuote(pidFile)}; wait`, 1), (err, ch) => {
          if (err) return reject(err);
          ch.resume();
          ch.stderr.resume();
          ch.on('close', (code: unknown, signal: unknown) => resolve({ code, signal }));
        });
      });
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(exit.signal).toBe('SIGTERM');
      const pid = await readPid(pidFile);
      expect(await waitFor(() => isDead(pid), 1500)).toBe(true);
    } finally {
      client.end();
    }
  });

  it('caps output: truncated=true, returns promptly and stops the producer', async () => {
    const { runner } = makeRunner();
    const pidFile = path.join(work, 'yes.pid');
    const t0 = Date.now();
    const r = await runner.exec(host, `echo $$ > ${shellQuote(pidFile)}; echo to-stderr >&2; yes clawmedic`, {
      timeoutMs: 10_000,
      maxOutputBytes: 50_000,
    });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r.truncated).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(Buffer.byteLength(r.stdout) + Buffer.byteLength(r.stderr)).toBe(50_000);
    expect(r.stdout.startsWith('clawmedic\n')).toBe(true);
    const pid = await readPid(pidFile);
    expect(await waitFor(() => isDead(pid), 3000)).toBe(true);
  });

  it('passes shell metacharacters quoted with shellQuote through literally, running nothing extra', async () => {
    const { runner } = makeRunner();
    const keep = path.join(work, 'keep');
    await writeFile(keep, 'x');
    const pwned = ['pwned1', 'pwned2', 'pwned3', 'pwned4'].map((f) => path.join(work, f));
    const nasty =
      `$(touch ${pwned[0]}); rm -rf ${keep}; \`touch ${pwned[1]}\` && touch ${pwned[2]} | cat ` +
      `'quoted' "dq $HOME" \\ back\\slash *; >${pwned[3]} ünïcødé\ttab\nnewline`;
    const r = await runner.exec(host, `printf '%s' ${shellQuote(nasty)}`, { timeoutMs: 5000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(nasty);
    for (const f of pwned) expect(existsSync(f)).toBe(false);
    expect(existsSync(keep)).toBe(true);
  });

  it('closes an idle connection after idleCloseMs and reconnects on the next command', async () => {
    const { runner, connects } = makeRunner({ idleCloseMs: 300 });
    await runner.exec(host, 'true', { timeoutMs: 5000 });
    expect(runner.openConnections).toBe(1);
    expect(await waitFor(() => runner.openConnections === 0, 2000)).toBe(true);
    await runner.exec(host, 'true', { timeoutMs: 5000 });
    expect(connects()).toBe(2);
  });

  it('re-creates the connection after the server dropped it, and fails an in-flight command as unreachable', async () => {
    const { runner, connects } = makeRunner();
    await runner.exec(host, 'true', { timeoutMs: 5000 });
    const inflight = runner.exec(host, 'sleep 5', { timeoutMs: 10_000 }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 300));
    await sshd.dropConnections();
    const err = await inflight;
    expect(err).toBeInstanceOf(HostUnreachableError);
    expect(await waitFor(() => runner.openConnections === 0, 2000)).toBe(true);
    expect((await runner.exec(host, 'echo back', { timeoutMs: 5000 })).stdout).toBe('back\n');
    expect(connects()).toBe(2);
  });
});

describe('SshRunner.stream on a real sshd', () => {
  it('delivers lines appended to a file (tail -F) and stop() ends the remote tail', async () => {
    const { runner } = makeRunner();
    const log = path.join(work, 'gateway.log');
    const pidFile = path.join(work, 'tail.pid');
    await writeFile(log, 'old line\n');
    const lines: string[] = [];
    const s = await runner.stream!(
      host,
      `echo $$ > ${shellQuote(pidFile)}; exec tail -n 0 -F ${shellQuote(log)}`,
      (line) => lines.push(line),
    );
    const pid = await readPid(pidFile);
    expect(isDead(pid)).toBe(false);
    // tail -F needs a moment to open the file before appends count as new.
    await new Promise((r) => setTimeout(r, 300));
    await appendFile(log, 'first\nsecond\r\n');
    await appendFile(log, 'par');
    await appendFile(log, 'tial\n');
    expect(await waitFor(() => lines.length >= 3, 3000)).toBe(true);
    expect(lines).toEqual(['first', 'second', 'partial']);
    s.stop();
    await s.done;
    expect(await waitFor(() => isDead(pid), 3000)).toBe(true);
    expect(runner.openConnections).toBe(1);
  });

  it('resolves done when the remote command ends by itself', async () => {
    const { runner } = makeRunner();
    const lines: string[] = [];
    const s = await runner.stream!(host, 'printf "a\\nb\\nno-newline"', (l) => lines.push(l));
    await s.done;
    expect(lines).toEqual(['a', 'b', 'no-newline']);
  });

  it('cuts a runaway line at maxLineBytes and drops its rest instead of emitting fragments', async () => {
    const { runner } = makeRunner({ maxLineBytes: 1000 });
    const lines: string[] = [];
    const s = await runner.stream!(host, 'head -c 100000 /dev/zero | tr "\\0" x; echo; echo next', (l) => lines.push(l));
    await s.done;
    expect(lines).toEqual(['x'.repeat(1000), 'next']);
  });
});

describe('fetchHostKeyFingerprint', () => {
  it('returns the fingerprint ssh-keygen reports for the host key, without authenticating', async () => {
    const before = sshd.acceptedConnections();
    const info = await fetchHostKeyFingerprint(sshd.host, sshd.port, 5000);
    expect(info).toEqual({ fingerprint: sshd.hostKeyFingerprint, keyType: 'ssh-ed25519' });
    await new Promise((r) => setTimeout(r, 100));
    expect(sshd.acceptedConnections()).toBe(before);
  });

  it('sees the same key after the test sshd restarts on the same port', async () => {
    await sshd.restart();
    const info = await fetchHostKeyFingerprint(sshd.host, sshd.port, 5000);
    expect(info.fingerprint).toBe(sshd.hostKeyFingerprint);
    const { runner } = makeRunner();
    expect((await runner.exec(host, 'echo restarted', { timeoutMs: 5000 })).stdout).toBe('restarted\n');
  });

  it('rejects with HostUnreachableError on a closed port', async () => {
    await expect(fetchHostKeyFingerprint('127.0.0.1', await closedPort(), 2000)).rejects.toBeInstanceOf(
      HostUnreachableError,
    );
  });
});
