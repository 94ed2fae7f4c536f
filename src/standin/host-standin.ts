/**
 * A stand-in for an OpenClaw host: fake `openclaw`, `free`, `systemctl`, `docker`, `journalctl`, `dmesg`
 * executables (bash) serving the real samples, driven by a state dir. The gateway port is real: a free
 * loopback port per stand-in (`port`) where, while the gateway runs, a real process titled like the real
 * gateway (`openclaw-gatewa`, gateway.mjs) answers GET /healthz with the real 2026.9.6 body; in the
 * port_conflict scenario a real `python3 -m http.server` holds it. So `ss` (the real one, logged), curl,
 * and the light probe's /proc reads and /dev/tcp GET see real sockets and owners. `openclaw` replays the
 * real CLI's wall time when asked (`latency`, CLAWMEDIC_STANDIN_LATENCY).
 * Put `binDir` first on PATH (sshd SetEnv) and pass `env`; tests set scenarios and read calls.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { shellQuote } from '../util/shell-quote.js';
import { freePort } from './free-port.js';

// Beside this module in src/standin/ and, copied by scripts/build.mjs, in dist/standin/.
const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Directory of the stand-in executables. */
export const STANDIN_BIN_DIR = path.join(HERE, 'host', 'bin');
/** The real OpenClaw output the stand-in serves (verbatim samples + derived/); the tests read the same files. */
export const STANDIN_FIXTURES_DIR = path.join(HERE, 'samples');

/** Scenarios the stand-in can play. */
export const SCENARIOS = [
  'healthy',
  'docker_healthy',
  'token_mismatch',
  'stale_client',
  'token_rotated',
  'config_autorestored',
  'token_override',
  'device_token_mismatch',
  'gateway_down',
  'crash_loop',
  'oom',
  'heap_oom',
  'plugin_failure',
  'port_conflict',
  'mode_unset',
  'rate_limited',
  'insecure_context',
  'origin_not_allowed',
  'second_gateway',
  'telegram_conflict',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** A slice of a fixture file: lines from..to (1-based, inclusive). */
interface Ref {
  file: string;
  from?: number;
  to?: number;
}

interface ScenarioDef {
  running: boolean;
  /** Log blocks, laid out one after another ending just before now; each keeps its real spacing. */
  blocks: Ref[][];
  /** Lines a failing client logs again at every observation (`gateway status`). */
  loop?: Ref[];
  modeUnset?: boolean;
  portOwner?: boolean;
  oomKill?: boolean;
  tokenOverride?: boolean;
  restarts?: number;
}

// The file-log lines of a normal start (`loading configuration…` … `cron: started`), OpenClaw 2026.9.6.
const STARTUP: Ref = { file: 'log-crash-restart.jsonl', from: 31, to: 46 };

const DEFS: Record<ScenarioName, ScenarioDef> = {
  healthy: { running: true, blocks: [[STARTUP]] },
  docker_healthy: { running: true, blocks: [[STARTUP]] },
  token_mismatch: {
    running: true,
    blocks: [[STARTUP], [{ file: 'log-wrong-token.jsonl' }, { file: 'log-stale-tab-loop.jsonl' }]],
    loop: [{ file: 'log-wrong-token.jsonl' }, { file: 'log-stale-tab-loop.jsonl', from: 27, to: 28 }],
  },
  stale_client: {
    running: true,
    blocks: [[STARTUP], [{ file: 'log-stale-tab-loop.jsonl' }]],
    loop: [{ file: 'log-stale-tab-loop.jsonl', from: 27, to: 28 }],
  },
  token_rotated: {
    running: true,
    blocks: [[STARTUP], [{ file: 'log-token-rotated-while-connected.jsonl' }]],
    loop: [{ file: 'log-token-rotated-while-connected.jsonl', from: 13, to: 14 }],
  },
  config_autorestored: {
    running: true,
    blocks: [[{ file: 'log-mode-unset-autorestored.jsonl' }], [STARTUP], [{ file: 'log-wrong-token.jsonl' }, { file: 'log-stale-tab-loop.jsonl', from: 1, to: 8 }]],
    loop: [{ file: 'log-wrong-token.jsonl' }],
  },
  token_override: {
    running: true,
    tokenOverride: true,
    blocks: [[STARTUP], [{ file: 'log-host-cli-probe-wrong-token.jsonl' }], [{ file: 'log-wrong-token.jsonl' }]],
    loop: [{ file: 'log-wrong-token.jsonl' }],
  },
  device_token_mismatch: {
    running: true,
    blocks: [[STARTUP], [{ file: 'derived/log-device-token-mismatch.stdout.txt' }]],
    loop: [{ file: 'derived/log-device-token-mismatch.stdout.txt' }],
  },
  gateway_down: {
    running: false,
    blocks: [[STARTUP], [{ file: 'log-crash-restart.jsonl', from: 1, to: 2 }]],
  },
  crash_loop: { running: false, restarts: 5, blocks: [[STARTUP], [STARTUP], [STARTUP], [STARTUP]] },
  oom: { running: false, oomKill: true, blocks: [[{ file: 'log-oom-cgroup-350m.txt', from: 1, to: 5 }]] },
  heap_oom: { running: false, blocks: [[{ file: 'log-oom-heap-limit-128m.txt' }]] },
  plugin_failure: { running: true, blocks: [[{ file: 'log-plugin-load-failed.stdout.txt' }]] },
  port_conflict: { running: false, portOwner: true, blocks: [[{ file: 'log-port-conflict.jsonl' }]] },
  mode_unset: {
    running: false,
    modeUnset: true,
    blocks: [[STARTUP], [{ file: 'derived/log-sigterm.stdout.txt' }], [{ file: 'derived/log-mode-blocked.stdout.txt' }]],
  },
  rate_limited: {
    running: true,
    blocks: [[STARTUP], [{ file: 'log-rate-limited.jsonl' }]],
    loop: [{ file: 'log-rate-limited.jsonl', from: 9, to: 10 }],
  },
  insecure_context: {
    running: true,
    blocks: [[STARTUP], [{ file: 'derived/log-insecure-context.stdout.txt' }]],
    loop: [{ file: 'derived/log-insecure-context.stdout.txt' }],
  },
  origin_not_allowed: {
    running: true,
    blocks: [[STARTUP], [{ file: 'derived/log-origin-not-allowed.stdout.txt' }]],
    loop: [{ file: 'derived/log-origin-not-allowed.stdout.txt' }],
  },
  second_gateway: { running: true, blocks: [[STARTUP], [{ file: 'log-second-gateway-run.jsonl' }]] },
  telegram_conflict: { running: true, blocks: [[STARTUP], [{ file: 'derived/log-telegram-409.stdout.txt' }]] },
};

const ISO_RE = /(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)/g;

function formatLike(ms: number, frac: string | undefined, zone: string): string {
  const iso = new Date(ms).toISOString(); // 2026-11-25T15:01:30.887Z
  const base = iso.slice(0, 19);
  const f = frac ? iso.slice(19, 23) : '';
  if (zone === 'Z') return `${base}${f}Z`;
  return `${base}${f}${zone.includes(':') ? '+00:00' : '+0000'}`;
}

function tsRange(lines: string[]): [number, number] | null {
  let min = Infinity;
  let max = -Infinity;
  for (const l of lines) {
    for (const m of l.matchAll(ISO_RE)) {
      const zone = m[3]!.length === 5 ? `${m[3]!.slice(0, 3)}:${m[3]!.slice(3)}` : m[3]!;
      const ms = Date.parse(`${m[1]}${m[2] ?? ''}${zone}`);
      if (Number.isNaN(ms)) continue;
      min = Math.min(min, ms);
      max = Math.max(max, ms);
    }
  }
  return Number.isFinite(min) ? [min, max] : null;
}

/**
 * Shift every ISO timestamp in `lines` by the same offset so the newest lands at `endMs`.
 * Lines stay real OpenClaw lines; only their times move (diagnose looks at a recent window).
 */
export function shiftTimestamps(lines: string[], endMs: number): string[] {
  const r = tsRange(lines);
  if (!r) return [...lines];
  const offset = endMs - r[1];
  return lines.map((l) =>
    l.replace(ISO_RE, (_all, base: string, frac: string | undefined, zone: string) => {
      const z = zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
      const ms = Date.parse(`${base}${frac ?? ''}${z}`);
      return Number.isNaN(ms) ? _all : formatLike(ms + offset, frac, zone);
    }),
  );
}

async function readRef(ref: Ref): Promise<string[]> {
  const text = await readFile(path.join(STANDIN_FIXTURES_DIR, ref.file), 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice((ref.from ?? 1) - 1, ref.to ?? lines.length);
}

/** The handle a test gets: paths, env, scenario control and the call log. */
export interface Standin {
  binDir: string;
  stateDir: string;
  /** CLAWMEDIC_STANDIN_STATE, CLAWMEDIC_STANDIN_FIXTURES and a PATH with binDir first. */
  env: Record<string, string>;
  setScenario(name: ScenarioName, opts?: { running?: boolean }): Promise<void>;
  /** Append raw lines to the gateway log the stand-in serves. */
  appendLog(lines: string[]): Promise<void>;
  /** argv of every stand-in invocation, oldest first; [0] is the program name. */
  calls(): Promise<string[][]>;
  clearCalls(): Promise<void>;
  /**
   * Scale of the real CLI latencies the stand-in replays (1 = as measured on a real 2026.9.6 host:
   * `gateway status --json` 3.6 s, `--version` 0.5 s, …; 0 = instant). Takes effect at the next call.
   */
  setLatency(factor: number): Promise<void>;
  /**
   * Faults of GET /healthz on the gateway port: `hang` (a listener that never answers: curl gives up at
   * --max-time), `wedged` (curl itself hangs past its own deadline), `404`; undefined = normal.
   */
  setHealthzMode(mode: HealthzMode | undefined): Promise<void>;
  /** Pid of the process standing in for the gateway (what `ss` names on the port while it runs); 0 when stopped. */
  readonly gatewayPid: number;
  /** The gateway port: free loopback port of this stand-in (also CLAWMEDIC_STANDIN_PORT in `env`). */
  port: number;
  /** The current state file as key/value pairs (scenario, running, restarts, owner_pid, …). */
  state(): Promise<Record<string, string>>;
  cleanup(): Promise<void>;
}

/** The config token is the one the stand-in's `openclaw dashboard --json` serves, so both fresh-link paths agree. */
const CONFIG_OK = { gateway: { mode: 'local', auth: { mode: 'token', token: 'standin-dashboard-token-7c1e9a' }, port: 18789, bind: 'loopback' } };

function unescapeArg(a: string): string {
  return a.replace(/\\(\\|t|n)/g, (_m, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : '\\'));
}

/** Faults the stand-in's GET /healthz can play. */
export type HealthzMode = 'hang' | 'wedged' | '404';

/** Env var: scale of the replayed real CLI latencies (0 = instant, 1 = as measured on a real host). */
export const STANDIN_LATENCY_ENV = 'CLAWMEDIC_STANDIN_LATENCY';

/** The real gateway listener (see gateway.mjs). */
const GATEWAY_SCRIPT = path.join(HERE, 'host', 'gateway.mjs');

/** Start `cmd` in the background through a shell that exits at once (reparented, so no zombie stays with us); its pid. */
function spawnDetached(cmd: string, cwd?: string): number | undefined {
  const r = spawnSync('sh', ['-c', `${cmd} </dev/null >/dev/null 2>&1 & echo $!`], { encoding: 'utf8', cwd });
  return Number(r.stdout.trim()) || undefined;
}

function alive(pid: number | undefined): boolean {
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
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`host stand-in: ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function killPid(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Create a stand-in host in a fresh temp state dir, playing the `healthy` scenario. `latency` scales
 * the real CLI's measured wall times (default: $CLAWMEDIC_STANDIN_LATENCY, else 0 so tests stay fast;
 * benchmarks pass 1).
 */
export async function createStandin(opts: { latency?: number } = {}): Promise<Standin> {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'clawmedic-standin-'));
  let ownerPid: number | undefined;
  const latency = opts.latency ?? Number(process.env[STANDIN_LATENCY_ENV] ?? 0);
  if (!Number.isFinite(latency) || latency < 0) throw new Error(`${STANDIN_LATENCY_ENV} must be a number ≥ 0`);
  const port = await freePort();
  const pidFile = path.join(stateDir, 'gateway.pid');
  const gatewayPid = (): number => {
    try {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      return alive(pid) ? pid : 0;
    } catch {
      return 0;
    }
  };

  // The gateway's real listener, as gw_proc_up / gw_proc_down in lib.sh start and stop it.
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

  const killOwner = async () => {
    if (ownerPid === undefined) return;
    const pid = ownerPid;
    ownerPid = undefined;
    killPid(pid); // may be gone already (a fix killed it)
    await waitFor(() => !alive(pid), `port owner pid ${pid} did not exit`);
  };

  const writeState = async (kv: Record<string, string | number | undefined>) => {
    const text = Object.entries(kv)
      .map(([k, v]) => `${k}=${v ?? ''}`)
      .join('\n');
    await writeFile(path.join(stateDir, 'state'), `${text}\n`);
  };

  const standin: Standin = {
    binDir: STANDIN_BIN_DIR,
    stateDir,
    env: {
      CLAWMEDIC_STANDIN_STATE: stateDir,
      CLAWMEDIC_STANDIN_FIXTURES: STANDIN_FIXTURES_DIR,
      [STANDIN_LATENCY_ENV]: String(latency),
      CLAWMEDIC_STANDIN_PORT: String(port),
      CLAWMEDIC_STANDIN_NODE: process.execPath,
      PATH: `${STANDIN_BIN_DIR}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    },

    get gatewayPid() {
      return gatewayPid();
    },
    port,

    async setLatency(factor) {
      await writeFile(path.join(stateDir, 'latency'), `${factor}\n`);
    },

    async setHealthzMode(mode) {
      const f = path.join(stateDir, 'healthz_mode');
      if (mode) await writeFile(f, `${mode}\n`);
      else await rm(f, { force: true });
    },

    async setScenario(name, opts = {}) {
      const def = DEFS[name];
      await killOwner();
      await rm(path.join(stateDir, 'healthz_mode'), { force: true });
      const now = Date.now();
      // Lay the blocks out back to back, the last one ending 2 s ago.
      const blocks = await Promise.all(def.blocks.map(async (refs) => (await Promise.all(refs.map(readRef))).flat()));
      const out: string[][] = new Array(blocks.length);
      let end = now - 2000;
      for (let i = blocks.length - 1; i >= 0; i--) {
        const r = tsRange(blocks[i]!);
        out[i] = shiftTimestamps(blocks[i]!, end);
        end -= (r ? r[1] - r[0] : 0) + 3000;
      }
      // The samples were taken on port 18789; this stand-in's port is its own.
      const ported = (lines: string[]) => lines.map((l) => l.split('18789').join(String(port)));
      await writeFile(path.join(stateDir, 'openclaw.log'), `${ported(out.flat()).join('\n')}\n`);
      const loop = def.loop ? ported((await Promise.all(def.loop.map(readRef))).flat()) : [];
      await writeFile(path.join(stateDir, 'loop.lines'), loop.length ? `${loop.join('\n')}\n` : '');
      const cfg = structuredClone(CONFIG_OK) as { gateway: Record<string, unknown> };
      cfg.gateway.port = port;
      if (def.modeUnset) delete cfg.gateway.mode;
      await writeFile(path.join(stateDir, 'openclaw.json'), JSON.stringify(cfg, null, 2));
      const override = path.join(stateDir, 'override.conf');
      await rm(override, { force: true });
      if (def.tokenOverride) {
        await writeFile(override, `[Service]\nExecStart=\nExecStart=/home/claw/.local/bin/openclaw gateway run --port ${port} --token stale-standin-token-4f2a9c\n`);
      }
      const running = opts.running ?? def.running;
      if (!running || def.portOwner) await gatewayDown();
      if (def.portOwner) {
        // Another program on the port answering HTTP 200: python's http.server, serving a directory listing.
        const dir = path.join(stateDir, 'www');
        await mkdir(dir, { recursive: true });
        // A page at /healthz, so the GET gets HTTP 200 with HTML (python answers 404 for a missing file).
        await writeFile(path.join(dir, 'healthz'), await readFile(path.join(STANDIN_FIXTURES_DIR, 'derived/http-server-directory-listing.html')));
        // The system python when there is one (a version manager's shim would add its own start-up).
        const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
        ownerPid = spawnDetached(`exec ${python} -m http.server ${port} --bind 127.0.0.1`, dir);
        await waitFor(() => accepts(port), `python3 http.server on port ${port} did not come up`);
      }
      const oomAt = def.oomKill ? new Date(now - 30_000).toISOString().slice(0, 19) + '+0000' : '';
      await writeState({
        scenario: name,
        running: running ? 1 : 0,
        restarts: def.restarts ?? 0,
        owner_pid: ownerPid,
        pending: '',
        oom_at: oomAt,
      });
      if (running) await gatewayUp();
    },

    async appendLog(lines) {
      await appendFile(path.join(stateDir, 'openclaw.log'), lines.map((l) => `${l}\n`).join(''));
    },

    async calls() {
      let text = '';
      try {
        text = await readFile(path.join(stateDir, 'calls.log'), 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t').map(unescapeArg));
    },

    async clearCalls() {
      await rm(path.join(stateDir, 'calls.log'), { force: true });
    },

    async state() {
      const text = await readFile(path.join(stateDir, 'state'), 'utf8');
      const out: Record<string, string> = {};
      for (const line of text.split('\n')) {
        const i = line.indexOf('=');
        if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
      }
      return out;
    },

    async cleanup() {
      await killOwner();
      await gatewayDown();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
  await standin.setScenario('healthy');
  return standin;
}
