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
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';
import { STANDIN_BIN_DIR, STANDIN_FIXTURES_DIR } from './standin-paths.js';
import { gatewayListener, portOwner } from './standin-processes.js';
import { DEFS, type ScenarioName, writeScenarioFiles } from './standin-scenarios.js';

export { STANDIN_BIN_DIR, STANDIN_FIXTURES_DIR } from './standin-paths.js';
export { SCENARIOS, shiftTimestamps, type ScenarioName } from './standin-scenarios.js';

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

function unescapeArg(a: string): string {
  return a.replace(/\\(\\|t|n)/g, (_m, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : '\\'));
}

/** argv of every stand-in invocation logged in the state dir, oldest first. */
async function readCalls(stateDir: string): Promise<string[][]> {
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
}

/** The state file as key/value pairs. */
async function readState(stateDir: string): Promise<Record<string, string>> {
  const text = await readFile(path.join(stateDir, 'state'), 'utf8');
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

async function writeState(stateDir: string, kv: Record<string, string | number | undefined>): Promise<void> {
  const text = Object.entries(kv)
    .map(([k, v]) => `${k}=${v ?? ''}`)
    .join('\n');
  await writeFile(path.join(stateDir, 'state'), `${text}\n`);
}

/** Faults the stand-in's GET /healthz can play. */
export type HealthzMode = 'hang' | 'wedged' | '404';

/** Env var: scale of the replayed real CLI latencies (0 = instant, 1 = as measured on a real host). */
export const STANDIN_LATENCY_ENV = 'CLAWMEDIC_STANDIN_LATENCY';

/**
 * Create a stand-in host in a fresh temp state dir, playing the `healthy` scenario. `latency` scales
 * the real CLI's measured wall times (default: $CLAWMEDIC_STANDIN_LATENCY, else 0 so tests stay fast;
 * benchmarks pass 1).
 */
export async function createStandin(opts: { latency?: number } = {}): Promise<Standin> {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'clawmedic-standin-'));
  const latency = opts.latency ?? Number(process.env[STANDIN_LATENCY_ENV] ?? 0);
  if (!Number.isFinite(latency) || latency < 0) throw new Error(`${STANDIN_LATENCY_ENV} must be a number ≥ 0`);
  const port = await freePort();
  const gateway = gatewayListener(stateDir, port);
  const owner = portOwner(stateDir, port);

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
      return gateway.pid();
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
      await owner.kill();
      await rm(path.join(stateDir, 'healthz_mode'), { force: true });
      const now = Date.now();
      await writeScenarioFiles(stateDir, port, def, now);
      const running = opts.running ?? def.running;
      if (!running || def.portOwner) await gateway.down();
      if (def.portOwner) await owner.start();
      const oomAt = def.oomKill ? new Date(now - 30_000).toISOString().slice(0, 19) + '+0000' : '';
      await writeState(stateDir, {
        scenario: name,
        running: running ? 1 : 0,
        restarts: def.restarts ?? 0,
        owner_pid: owner.pid,
        pending: '',
        oom_at: oomAt,
      });
      if (running) await gateway.up();
    },

    async appendLog(lines) {
      await appendFile(path.join(stateDir, 'openclaw.log'), lines.map((l) => `${l}\n`).join(''));
    },

    calls: () => readCalls(stateDir),

    async clearCalls() {
      await rm(path.join(stateDir, 'calls.log'), { force: true });
    },

    state: () => readState(stateDir),

    async cleanup() {
      await owner.kill();
      await gateway.down();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
  await standin.setScenario('healthy');
  return standin;
}
