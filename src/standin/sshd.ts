/**
 * A REAL OpenSSH sshd on a free 127.0.0.1 port with throw-away keys, run as the current user: the
 * demo's simulated host, and the test suites' (test/support/sshd.ts), so both exercise the same
 * transport a production host offers.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile, chmod } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { HostConfig } from '../domain/host.js';
import { freePort } from './free-port.js';

const execFileP = promisify(execFile);

/** Where Debian/Ubuntu's openssh-server puts the daemon; sshd must be started by absolute path (it re-execs itself). */
const SSHD_BIN = process.env.CLAWMEDIC_TEST_SSHD ?? '/usr/sbin/sshd';
const READY_TIMEOUT_MS = 10_000;

export interface StartSshdOptions {
  /** Directory put first on PATH of every session, so stand-in `openclaw`, `systemctl`, ... win. */
  binDir?: string;
  /** Extra environment variables set in every session (sshd_config SetEnv). */
  env?: Record<string, string>;
  /**
   * Keep the user's ~/.bashrc out of exec sessions (Debian's bash sources it for ssh commands).
   * Default true: a developer's slow rc file (pyenv init: ~200 ms) must not decide test timings.
   */
  skipBashrc?: boolean;
  /**
   * sshd_config MaxStartups (unauthenticated connections at once). Default "100:30:200"; a benchmark
   * that opens hundreds of connections at once raises it so sshd does not drop them.
   */
  maxStartups?: string;
  /** An old sshd: an RSA host key signed only with SHA-1 (`ssh-rsa`) and only `hmac-sha1` MACs (issue 12.9 tests). */
  sha1Only?: boolean;
}

/** A running throw-away sshd and everything a client needs to reach it. */
export interface SshdHandle {
  host: '127.0.0.1';
  port: number;
  user: string;
  /** Client private key (OpenSSH PEM) that authorized_keys accepts. */
  privateKey: string;
  privateKeyPath: string;
  /** A valid private key that authorized_keys does NOT accept (auth-refused tests). */
  otherPrivateKey: string;
  /** Fingerprint of the sshd host key as `ssh-keygen -lf` prints it: SHA256:<base64>. */
  hostKeyFingerprint: string;
  /** Fingerprint of a different ed25519 key (wrong-pin tests). */
  otherHostKeyFingerprint: string;
  tmpDir: string;
  /** The stand-in's gateway port when sshd serves a stand-in (CLAWMEDIC_STANDIN_PORT in its env), else 18789. */
  gatewayPort: number;
  /** sshd's own log (-e: stderr) so far; useful when a test fails. */
  log(): string;
  /** Number of "Accepted publickey" lines in the log: how many SSH connections authenticated. */
  acceptedConnections(): number;
  /** Kill every connection's sshd processes (and their sessions) but keep listening: a dropped link. */
  dropConnections(): Promise<void>;
  stop(): Promise<void>;
  /** Stop and start again on the same port with the same keys (drops every connection). */
  restart(): Promise<void>;
}

/** pids of all descendants of `root` (Linux /proc), deepest last; used to drop sshd's connections. */
async function descendantsOf(root: number): Promise<number[]> {
  const parentOf = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) follows the parenthesised command name, which may itself contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      /* process exited while we looked */
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parentOf) {
      if (parent === pid) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(root);
  return out;
}

async function keygen(file: string, comment: string, type: 'ed25519' | 'rsa' = 'ed25519'): Promise<void> {
  await execFileP('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', comment, '-f', file]);
}

async function fingerprintWithSshKeygen(pubFile: string): Promise<string> {
  const { stdout } = await execFileP('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile]);
  const fp = stdout.split(/\s+/)[1];
  if (!fp?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen -l output: ${stdout}`);
  return fp;
}


/** Resolves once a TCP connect AND an SSH banner succeed (sshd accepts before it is fully set up otherwise). */
async function waitForBanner(port: number, child: ChildProcess, deadline: number): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('sshd exited during start');
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      const done = (v: boolean) => {
        s.destroy();
        resolve(v);
      };
      s.setTimeout(1000, () => done(false));
      s.on('error', () => done(false));
      s.on('data', (d) => done(d.toString('latin1').startsWith('SSH-')));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not accept on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** sshd processes started by this test process: killed on exit so a crashed suite leaves no daemon behind. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(c: ChildProcess): void {
  running.add(c);
  c.once('exit', () => running.delete(c));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const child of running) child.kill('SIGKILL');
    });
  }
}

/** Fresh host and client keys in `tmpDir` (the host key RSA for a SHA-1-only sshd), and authorized_keys accepting the client key. */
async function makeKeys(tmpDir: string, sha1Only: boolean | undefined) {
  const hostKey = path.join(tmpDir, sha1Only ? 'ssh_host_rsa_key' : 'ssh_host_ed25519_key');
  const otherHostKey = path.join(tmpDir, 'other_host_ed25519_key');
  const clientKey = path.join(tmpDir, 'client_ed25519');
  const otherClientKey = path.join(tmpDir, 'other_client_ed25519');
  await Promise.all([
    keygen(hostKey, 'clawmedic-test-host', sha1Only ? 'rsa' : 'ed25519'),
    keygen(otherHostKey, 'clawmedic-test-other-host'),
    keygen(clientKey, 'clawmedic-test-client'),
    keygen(otherClientKey, 'clawmedic-test-other-client'),
  ]);
  const authorizedKeys = path.join(tmpDir, 'authorized_keys');
  await writeFile(authorizedKeys, await readFile(`${clientKey}.pub`, 'utf8'), { mode: 0o600 });
  return { hostKey, otherHostKey, clientKey, otherClientKey, authorizedKeys };
}

/** The environment of every session (sshd_config SetEnv): PATH with binDir first, the caller's vars, SHLVL. */
function sessionEnv(opts: StartSshdOptions): Record<string, string> {
  // The node running the tests goes last so `#!/usr/bin/env node` stand-ins work with nvm-style installs too.
  const pathDirs = [opts.binDir, '/usr/local/bin', '/usr/bin', '/bin'].filter((d): d is string => Boolean(d));
  const nodeDir = path.dirname(process.execPath);
  if (!pathDirs.includes(nodeDir)) pathDirs.push(nodeDir);
  const binPath = pathDirs.join(':');
  const env: Record<string, string> = { PATH: binPath, ...(opts.env ?? {}) };
  // bash skips ~/.bashrc for ssh commands when SHLVL says it is not a top-level shell.
  if (opts.skipBashrc !== false && env.SHLVL === undefined) env.SHLVL = '1';
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || /[\s"\\]/.test(v)) {
      throw new Error(`startSshd: env ${k} must be a plain name with a value without spaces, quotes or backslashes`);
    }
  }
  return env;
}

/** The sshd_config of a throw-away sshd on 127.0.0.1:`port`. */
function sshdConfig(c: {
  port: number;
  hostKey: string;
  authorizedKeys: string;
  tmpDir: string;
  user: string;
  env: Record<string, string>;
  opts: StartSshdOptions;
}): string {
  const { port, hostKey, authorizedKeys, tmpDir, user, env, opts } = c;
  return [
    `ListenAddress 127.0.0.1`,
    `Port ${port}`,
    `HostKey ${hostKey}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    `PubkeyAuthentication yes`,
    `PasswordAuthentication no`,
    `KbdInteractiveAuthentication no`,
    `UsePAM no`,
    `StrictModes no`,
    `PidFile ${path.join(tmpDir, 'sshd.pid')}`,
    `PermitRootLogin prohibit-password`,
    `AllowUsers ${user}`,
    `LogLevel ${process.env.CLAWMEDIC_TEST_SSHD_LOGLEVEL ?? 'VERBOSE'}`,
    `PrintMotd no`,
    `Subsystem sftp internal-sftp`,
    // Tests open many channels at once on one connection.
    `MaxSessions 20`,
    `MaxStartups ${opts.maxStartups ?? '100:30:200'}`,
    ...(opts.sha1Only ? ['HostKeyAlgorithms ssh-rsa', 'MACs hmac-sha1', 'Ciphers aes128-ctr,aes256-ctr'] : []),
    `SetEnv ${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    '',
  ].join('\n');
}

/** The sshd daemon itself (`-D -e`): launch() waits for its banner, halt() stops it; its log collects stderr. */
function sshdProcess(configPath: string, port: number) {
  let logText = '';
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const c = spawn(SSHD_BIN, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    trackChild(c);
    c.stderr?.setEncoding('utf8');
    c.stderr?.on('data', (d: string) => {
      logText += d;
    });
    try {
      await waitForBanner(port, c, Date.now() + READY_TIMEOUT_MS);
    } catch (err) {
      c.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\nsshd log:\n${logText}`);
    }
  };

  const halt = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  };

  return { launch, halt, pid: () => child?.pid, log: () => logText };
}

/** Start a real sshd on a free loopback port with fresh keys; call stop() in afterAll. */
export async function startSshd(opts: StartSshdOptions = {}): Promise<SshdHandle> {
  if (!existsSync(SSHD_BIN)) throw new Error(`${SSHD_BIN} not found: install openssh-server`);
  const user = os.userInfo().username;
  const isRoot = process.getuid?.() === 0;
  // Privilege separation directory: sshd refuses to start as root without it.
  if (isRoot && !existsSync('/run/sshd')) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'clawmedic-sshd-'));
  const { hostKey, otherHostKey, clientKey, otherClientKey, authorizedKeys } = await makeKeys(tmpDir, opts.sha1Only);
  const env = sessionEnv(opts);

  const port = await freePort();
  const configPath = path.join(tmpDir, 'sshd_config');
  const config = sshdConfig({ port, hostKey, authorizedKeys, tmpDir, user, env, opts });
  await writeFile(configPath, config);
  await chmod(hostKey, 0o600);

  const [hostKeyFingerprint, otherHostKeyFingerprint, privateKey, otherPrivateKey] = await Promise.all([
    fingerprintWithSshKeygen(`${hostKey}.pub`),
    fingerprintWithSshKeygen(`${otherHostKey}.pub`),
    readFile(clientKey, 'utf8'),
    readFile(otherClientKey, 'utf8'),
  ]);

  const daemon = sshdProcess(configPath, port);
  await daemon.launch();

  return {
    host: '127.0.0.1',
    port,
    user,
    privateKey,
    privateKeyPath: clientKey,
    otherPrivateKey,
    hostKeyFingerprint,
    otherHostKeyFingerprint,
    tmpDir,
    gatewayPort: Number(opts.env?.CLAWMEDIC_STANDIN_PORT ?? 18789),
    log: daemon.log,
    async dropConnections() {
      const pid = daemon.pid();
      if (!pid) return;
      for (const p of await descendantsOf(pid)) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    },
    acceptedConnections: () => (daemon.log().match(/Accepted publickey for /g) ?? []).length,
    async stop() {
      await daemon.halt();
      await rm(tmpDir, { recursive: true, force: true });
    },
    async restart() {
      await daemon.halt();
      await daemon.launch();
    },
  };
}

/** A valid inventory HostConfig pointing at the test sshd (native install, placeholder supervisor). */
export function hostConfigFor(handle: SshdHandle, overrides: Partial<HostConfig> = {}): HostConfig {
  const base: HostConfig = {
    name: 'testhost',
    ssh: {
      host: handle.host,
      port: handle.port,
      user: handle.user,
      hostKeyFingerprint: handle.hostKeyFingerprint,
      privateKeyPath: handle.privateKeyPath,
    },
    install: 'native',
    supervisor: { kind: 'commands', start: 'openclaw-supervise start', stop: 'openclaw-supervise stop' },
    openclaw: { bin: 'openclaw' },
    gateway: { port: handle.gatewayPort },
    allowKillPortOwner: false,
    autoFix: false,
  };
  return { ...base, ...overrides, ssh: { ...base.ssh, ...(overrides.ssh ?? {}) } };
}
