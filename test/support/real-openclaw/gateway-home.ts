/**
 * A throw-away OpenClaw home (HOME + OPENCLAW_STATE_DIR in a temp dir) configured with the
 * non-interactive `onboard` line, a known token and its own loopback port; runs the real CLI.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ensureOpenclawInstalled, type OpenclawInstall } from './install.js';
import { GatewayProcess } from './gateway-process.js';
import { freePort } from './net-util.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** Result of one `openclaw ...` CLI run (stdin is /dev/null, as over a plain SSH exec). */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Options of createGatewayHome(). */
export interface GatewayHomeOptions {
  /** Gateway port written by onboard (default: a free loopback port). */
  port?: number;
  /** gateway.auth.token written by onboard (default: random). */
  token?: string;
}

/** Options of GatewayHome.startGateway(). */
export interface StartGatewayOptions {
  /** `--token X`: overrides gateway.auth.token for this process (the stale service-flag case). */
  token?: string;
  /** `--port N` (default: the configured port). */
  port?: number;
  extraArgs?: string[];
}

/** A configured OpenClaw state directory plus the gateways started from it. */
export class GatewayHome {
  private readonly gateways: GatewayProcess[] = [];

  private constructor(
    readonly install: OpenclawInstall,
    /** The temp HOME; `.openclaw/` inside it is the state dir. */
    readonly dir: string,
    readonly port: number,
    /** The token currently in gateway.auth.token (rotateToken() updates it). */
    public token: string,
  ) {}

  /** Create the home and run the real non-interactive onboard (≈ 5 s). */
  static async create(opts: GatewayHomeOptions = {}): Promise<GatewayHome> {
    const install = ensureOpenclawInstalled();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clawmedic-oc-'));
    const port = opts.port ?? (await freePort());
    const token = opts.token ?? `test-${randomBytes(12).toString('hex')}`;
    const home = new GatewayHome(install, dir, port, token);
    const r = await home.cli(
      [
        'onboard', '--non-interactive', '--accept-risk', '--mode', 'local', '--auth-choice', 'skip',
        '--gateway-auth', 'token', '--gateway-token', token, '--gateway-bind', 'loopback',
        '--gateway-port', String(port), '--skip-daemon', '--skip-channels', '--skip-skills',
        '--skip-search', '--skip-ui', '--skip-health',
        // 2026.4 has no hooks step: its onboard refuses `--skip-hooks` ("unknown option").
        ...(install.version.startsWith('2026.4.') ? [] : ['--skip-hooks']),
      ],
      120_000,
    );
    if (r.code !== 0) throw new Error(`openclaw onboard failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return home;
  }

  get stateDir(): string {
    return path.join(this.dir, '.openclaw');
  }

  get configPath(): string {
    return path.join(this.stateDir, 'openclaw.json');
  }

  /** ws:// URL of this home's gateway. */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /**
   * Environment of every openclaw process: Node 24 first on PATH, this home as HOME/state dir.
   * Why HOME too: `doctor --fix` edits ~/.bashrc and device identity lives under ~.
   */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    // Never let the developer's own gateway settings leak into the throw-away home.
    // Nor vitest's own markers: openclaw checks VITEST / NODE_ENV=test and changes behaviour.
    for (const k of Object.keys(env)) {
      if (k.startsWith('OPENCLAW_') || k.startsWith('VITEST') || k.startsWith('__VITEST')) delete env[k];
    }
    delete env.NODE_OPTIONS;
    delete env.NODE_ENV;
    delete env.TEST;
    return {
      ...env,
      HOME: this.dir,
      OPENCLAW_STATE_DIR: this.stateDir,
      PATH: `${this.install.nodeBinDir}${path.delimiter}${process.env.PATH ?? ''}`,
      NO_COLOR: '1',
      ...extra,
    };
  }

  /** Run the real `openclaw <args>` with this home's env and stdin from /dev/null. */
  cli(args: string[], timeoutMs = 120_000): Promise<CliResult> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const child = spawn(this.install.nodeBin, [this.install.openclawEntry, ...args], {
        env: this.env(),
        cwd: this.dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`openclaw ${args.join(' ')} timed out after ${timeoutMs} ms\n${stdout}\n${stderr}`));
      }, timeoutMs);
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({
          code,
          stdout: stdout.replace(ANSI, ''),
          stderr: stderr.replace(ANSI, ''),
          durationMs: Date.now() - started,
        });
      });
    });
  }

  /** `openclaw gateway status --json [...extra]`, parsed (exit code kept: it is 0 even when the probe fails). */
  async gatewayStatus(extra: string[] = []): Promise<{ code: number | null; json: GatewayStatusJson; raw: CliResult }> {
    const raw = await this.cli(['gateway', 'status', '--json', ...extra], 90_000);
    const start = raw.stdout.indexOf('{');
    if (start < 0) throw new Error(`gateway status --json printed no JSON:\n${raw.stdout}\n${raw.stderr}`);
    return { code: raw.code, json: JSON.parse(raw.stdout.slice(start)) as GatewayStatusJson, raw };
  }

  /** Start `openclaw gateway run` from this home (does not wait for ready). */
  startGateway(opts: StartGatewayOptions = {}): GatewayProcess {
    const args: string[] = [];
    if (opts.port !== undefined) args.push('--port', String(opts.port));
    if (opts.token !== undefined) args.push('--token', opts.token);
    args.push(...(opts.extraArgs ?? []));
    const gw = GatewayProcess.spawn(this.install.nodeBin, this.install.openclawEntry, args, this.env(), this.dir);
    this.gateways.push(gw);
    return gw;
  }

  /** Rotate gateway.auth.token the way an operator does (`openclaw config set`); a running gateway hot-reloads it. */
  async rotateToken(newToken: string): Promise<CliResult> {
    const r = await this.cli(['config', 'set', 'gateway.auth.token', newToken]);
    if (r.code !== 0) throw new Error(`config set gateway.auth.token failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    this.token = newToken;
    return r;
  }

  /** The parsed openclaw.json. */
  readConfig(): OpenclawConfigJson {
    return JSON.parse(readFileSync(this.configPath, 'utf8')) as OpenclawConfigJson;
  }

  /** Remove gateway.mode from openclaw.json by hand (what a hand edit or a bad merge leaves). */
  unsetGatewayMode(): void {
    const cfg = this.readConfig();
    if (cfg.gateway) delete cfg.gateway.mode;
    writeFileSync(this.configPath, `${JSON.stringify(cfg, null, 2)}\n`, { mode: 0o600 });
  }

  /** Files in the state dir (backups, `.clobbered.*` copies...). */
  stateFiles(): string[] {
    return readdirSync(this.stateDir);
  }

  /** Stop every gateway this home started (SIGTERM, then SIGKILL the group) and delete the temp dir. */
  async dispose(): Promise<void> {
    for (const gw of this.gateways) {
      if (!gw.exit()) await gw.stop(15_000).catch(() => undefined);
      gw.dispose();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The part of openclaw.json the tests touch. */
export interface OpenclawConfigJson {
  gateway?: { mode?: string; port?: number; bind?: string; auth?: { mode?: string; token?: string } };
  [k: string]: unknown;
}

/** Fields of `openclaw gateway status --json` (2026.9.6) the tests assert on. */
export interface GatewayStatusJson {
  logFile?: string;
  gateway?: { port?: number; probeUrl?: string; bindHost?: string };
  config?: { cli?: { path?: string }; daemon?: { path?: string } };
  port?: {
    port?: number;
    status?: string;
    listeners?: Array<{ pid?: number; command?: string; address?: string; user?: string; commandLine?: string }>;
    hints?: string[];
  };
  rpc?: {
    ok?: boolean;
    error?: string;
    url?: string;
    connectFailure?: { kind?: string; detailCode?: string; [k: string]: unknown };
    [k: string]: unknown;
  };
  service?: { inspectionReason?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** Convenience for the brief's API: a configured home (see GatewayHome.create). */
export function createGatewayHome(opts: GatewayHomeOptions = {}): Promise<GatewayHome> {
  return GatewayHome.create(opts);
}
