/**
 * A stand-in for an OpenClaw host: fake `openclaw`, `ss`, `curl`, `wget`, `free`, `systemctl`, `docker`,
 * `journalctl`, `dmesg` executables (bash) serving the real samples, driven by a state dir. Nothing
 * really listens on the gateway port: `ss` and `curl`/`wget` answer as they would against the real
 * gateway (GET /healthz → `{"ok":true,"status":"live"}`). `openclaw` replays the real CLI's wall time
 * when asked (`latency`, CLAWMEDIC_STANDIN_LATENCY).
 * Put `binDir` first on PATH (sshd SetEnv) and pass `env`; tests set scenarios and read calls.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
  /** Pid of the process standing in for the gateway (what `ss` names on the port while it runs). */
  gatewayPid: number;
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

/** A long-lived process (reparented to init, so killing it leaves no zombie with us); returns its pid. */
function spawnSleeper(): number | undefined {
  const r = spawnSync('sh', ['-c', 'sleep 3600 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' });
  return Number(r.stdout.trim()) || undefined;
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
  // The gateway's process as `ss` names it: a real process, so the probe can read its /proc/<pid>/status.
  const sleeperPid = spawnSleeper();
  const gatewayPid = sleeperPid ?? 21774;
  await writeFile(path.join(stateDir, 'gateway.pid'), `${gatewayPid}\n`);

  const killOwner = () => {
    if (ownerPid === undefined) return;
    try {
      process.kill(ownerPid, 'SIGKILL');
    } catch {
      // already gone (a fix killed it)
    }
    ownerPid = undefined;
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
      PATH: `${STANDIN_BIN_DIR}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    },

    gatewayPid,

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
      killOwner();
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
      await writeFile(path.join(stateDir, 'openclaw.log'), `${out.flat().join('\n')}\n`);
      const loop = def.loop ? (await Promise.all(def.loop.map(readRef))).flat() : [];
      await writeFile(path.join(stateDir, 'loop.lines'), loop.length ? `${loop.join('\n')}\n` : '');
      const cfg = structuredClone(CONFIG_OK) as { gateway: Record<string, unknown> };
      if (def.modeUnset) delete cfg.gateway.mode;
      await writeFile(path.join(stateDir, 'openclaw.json'), JSON.stringify(cfg, null, 2));
      const override = path.join(stateDir, 'override.conf');
      await rm(override, { force: true });
      if (def.tokenOverride) {
        await writeFile(override, '[Service]\nExecStart=\nExecStart=/home/claw/.local/bin/openclaw gateway run --port 18789 --token stale-standin-token-4f2a9c\n');
      }
      if (def.portOwner) {
        // Started through a shell that exits at once, so the owner is reparented and reaped when killed.
        ownerPid = spawnSleeper();
      }
      const oomAt = def.oomKill ? new Date(now - 30_000).toISOString().slice(0, 19) + '+0000' : '';
      await writeState({
        scenario: name,
        running: (opts.running ?? def.running) ? 1 : 0,
        restarts: def.restarts ?? 0,
        owner_pid: ownerPid,
        pending: '',
        oom_at: oomAt,
      });
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
      killOwner();
      killPid(sleeperPid);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
  await standin.setScenario('healthy');
  return standin;
}
