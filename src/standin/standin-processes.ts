/**
 * The real processes of the host stand-in: its gateway listener (gateway.mjs, tracked by a pid file in
 * the state dir) and, in the port_conflict scenario, another program on the gateway port. Started
 * detached through a shell, so no zombie stays with the test process.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { shellQuote } from '../util/shell-quote.js';
import { GATEWAY_SCRIPT, STANDIN_FIXTURES_DIR } from './standin-paths.js';

/** Start `cmd` in the background through a shell that exits at once (reparented, so no zombie stays with us); its pid. */
export function spawnDetached(cmd: string, cwd?: string): number | undefined {
  const r = spawnSync('sh', ['-c', `${cmd} </dev/null >/dev/null 2>&1 & echo $!`], { encoding: 'utf8', cwd });
  return Number(r.stdout.trim()) || undefined;
}

export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:.*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Resolves true once 127.0.0.1:port accepts (false: refused), within `ms`. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`host stand-in: ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function killPid(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The stand-in's gateway listener on `port`, as gw_proc_up / gw_proc_down in lib.sh start and stop it. */
export function gatewayListener(stateDir: string, port: number): { pid(): number; up(): Promise<void>; down(): Promise<void> } {
  const pidFile = path.join(stateDir, 'gateway.pid');
  const gatewayPid = (): number => {
    try {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      return alive(pid) ? pid : 0;
    } catch {
      return 0;
    }
  };

  const gatewayUp = async () => {
    if (gatewayPid()) return;
    const pid = spawnDetached(`exec ${shellQuote(process.execPath)} ${shellQuote(GATEWAY_SCRIPT)} ${port} ${shellQuote(stateDir)} ${shellQuote(STANDIN_FIXTURES_DIR)}`);
    await writeFile(pidFile, `${pid ?? ''}\n`);
    await waitFor(() => accepts(port), `the gateway listener on port ${port} did not come up`);
  };
  const gatewayDown = async () => {
    const pid = gatewayPid();
    if (!pid) return;
    killPid(pid);
    await waitFor(() => !alive(pid), `gateway pid ${pid} did not exit`);
  };
  return { pid: gatewayPid, up: gatewayUp, down: gatewayDown };
}

/** Pids of the processes listening on 127.0.0.1:port, as the real `ss` names them (own user's only). */
function listenerPids(port: number): number[] {
  const r = spawnSync('ss', ['-tlnpH', `sport = :${port}`], { encoding: 'utf8' });
  return [...(r.stdout ?? '').matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
}

/**
 * Another program holding the gateway port (port_conflict): started by start(), gone after kill().
 * A gateway listener the pid file lost (seen under load: a restart's new listener lost the port to the
 * old one and its dead pid was recorded) would keep the port and answer for python: it is killed first,
 * and the owner must be alive once the port accepts.
 */
export function portOwner(stateDir: string, port: number): { readonly pid: number | undefined; start(): Promise<void>; kill(): Promise<void> } {
  let ownerPid: number | undefined;
  return {
    get pid() {
      return ownerPid;
    },
    async start() {
      // Another program on the port answering HTTP 200: python's http.server, serving a directory listing.
      const dir = path.join(stateDir, 'www');
      await mkdir(dir, { recursive: true });
      // A page at /healthz, so the GET gets HTTP 200 with HTML (python answers 404 for a missing file).
      await writeFile(path.join(dir, 'healthz'), await readFile(path.join(STANDIN_FIXTURES_DIR, 'derived/http-server-directory-listing.html')));
      // The system python when there is one (a version manager's shim would add its own start-up).
      const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
      for (const pid of listenerPids(port)) killPid(pid);
      await waitFor(async () => !(await accepts(port)), `port ${port} was not freed for the port owner`);
      ownerPid = spawnDetached(`exec ${python} -m http.server ${port} --bind 127.0.0.1`, dir);
      const started = ownerPid;
      await waitFor(() => accepts(port), `python3 http.server on port ${port} did not come up`);
      if (!alive(started)) throw new Error(`host stand-in: python3 http.server (pid ${started}) exited: port ${port} is held by another process`);
    },
    async kill() {
      if (ownerPid === undefined) return;
      const pid = ownerPid;
      ownerPid = undefined;
      killPid(pid); // may be gone already (a fix killed it)
      await waitFor(() => !alive(pid), `port owner pid ${pid} did not exit`);
    },
  };
}
