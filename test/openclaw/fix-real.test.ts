/**
 * clawmedic FIXES a real OpenClaw 2026.9.6 gateway over a real sshd, end to end, through the same
 * HostOps the fix worker runs (createRemoteHostOps: diagnose → plan → runStep… → verify).
 *
 * One throw-away home, one sshd, two gateway boots (~14 s each), in this order:
 *  1. gateway.mode removed right after onboard → start BLOCKED (exit 78) → gateway_mode_unset →
 *     `config set gateway.mode local` + start + wait → the real gateway answers, verify says fixed;
 *  2. python3 http.server (same user) on the port while the gateway is down, allowKillPortOwner →
 *     port_conflict naming python3 and its pid → kill_port_owner + start + wait → fixed;
 *  3. token rotated under a connected tab → token_rotated → the fresh_dashboard_link step's link
 *     (HostOps keeps it as the step's secret) carries the new token and the tab connects with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { parseConfigText, type LoadedConfig } from '../../src/config/load-config.js';
import type { FixPlan, Verdict } from '../../src/domain/diagnosis.js';
import type { HostConfig } from '../../src/domain/host.js';
import type { RemoteRunner } from '../../src/domain/remote.js';
import type { HostOps, StepResult } from '../../src/domain/host-ops.js';
import { createRemoteHostOps } from '../../src/jobs/remote-host-ops.js';
import { createLogger } from '../../src/util/logger.js';
import { hostConfigFor, startSshd, type SshdHandle } from '../support/sshd.js';
import {
  GatewayHome,
  isListening,
  occupyPort,
  sleep,
  staleTab,
  startControlUiClient,
  waitForHello,
  waitUntil,
  type PortOccupant,
} from '../support/real-openclaw/index.js';

const FAST = { initialMs: 200, factor: 1.7, maxMs: 1500 };

/** What one fix run did, as the fix worker sees it. */
interface FixRun {
  plan: FixPlan;
  steps: Array<{ kind: string; ok: boolean; result: StepResult }>;
  after?: Verdict;
  check?: { fixed: boolean; reason: string };
}

describe('clawmedic fixes a real OpenClaw gateway over real SSH (HostOps, as the fix worker runs it)', () => {
  let home: GatewayHome;
  let sshd: SshdHandle;
  let ops: HostOps;
  let closeOps: (() => Promise<void>) | undefined;
  let host: HostConfig;
  let supervise: string;
  let squatter: PortOccupant | undefined;

  let runner: RemoteRunner | undefined;
  const sh = (script: string): Promise<{ exitCode: number | null; stdout: string }> => runner!.exec(host, script, { timeoutMs: 60_000 });
  const pidFile = (): string => path.join(home.dir, 'gateway.pid');
  const gatewayPid = (): number | undefined => {
    try {
      return Number(readFileSync(pidFile(), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  const alive = (pid: number | undefined): boolean => {
    if (!pid) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const headline = (v: Verdict): string => v.findings[0]!.cause;
  const describeVerdict = (v: Verdict): string =>
    JSON.stringify({ probeOk: v.probeOk, gaps: v.gaps, findings: v.findings.map((f) => [f.cause, f.weight, f.summary, f.evidence]) });
  const describeRun = (run: FixRun): string =>
    JSON.stringify({
      steps: run.steps.map((s) => [s.result.exitCode, s.kind, s.result.timedOut, s.result.error, s.result.output.slice(-400)]),
      check: run.check,
      after: run.after && describeVerdict(run.after),
    });

  /**
   * The fix worker's loop (src/jobs/fix-worker.ts runFix) over HostOps: every step through runStep,
   * stop on a failed step unless it may fail, the verify window, a fresh diagnose since the fix
   * started, verify. `duringWindow` is what the user does meanwhile (open the link...).
   */
  async function runFix(before: Verdict, duringWindow?: (steps: FixRun['steps']) => Promise<void>): Promise<FixRun> {
    const started = Date.now();
    const plan = ops.plan(host, before);
    const run: FixRun = { plan, steps: [] };
    for (const step of plan.steps) {
      const result = await ops.runStep(host, step);
      const ok = !result.timedOut && result.exitCode === 0 && !result.error;
      run.steps.push({ kind: step.kind, ok, result });
      if (!ok && !step.continueOnError) return run;
    }
    await duringWindow?.(run.steps);
    await sleep(plan.verifyWindowSec * 1000);
    run.after = await ops.diagnose(host, { since: new Date(started) });
    run.check = ops.verify(before, run.after);
    return run;
  }

  beforeAll(async () => {
    // A fresh onboard: its openclaw.json.bak has no gateway.mode, which case 1 needs.
    home = await GatewayHome.create();
    // Its own file log (logging.file; the evidence pass finds it through `gateway status --json`):
    // the default /tmp/openclaw/openclaw-<date>.log is shared with any other gateway on the machine,
    // and another run's rotated token or stale tab there would land in this file's verify windows.
    // A hand edit, not `config set`: that would rewrite openclaw.json.bak and case 1 needs the onboard one.
    const cfg = home.readConfig();
    cfg.logging = { file: path.join(home.dir, 'openclaw.log') };
    writeFileSync(home.configPath, `${JSON.stringify(cfg, null, 2)}\n`, { mode: 0o600 });
    // The host's "supervisor" (inventory kind 'commands'): a foreground gateway detached from SSH.
    supervise = path.join(home.dir, 'supervise.sh');
    writeFileSync(
      supervise,
      [
        '#!/bin/sh',
        `d=${JSON.stringify(home.dir)}`,
        'case "$1" in',
        `start) [ -f "$d/gateway.pid" ] && kill -0 "$(cat "$d/gateway.pid")" 2>/dev/null && { echo already running; exit 0; }`,
        `  setsid nohup node ${JSON.stringify(home.install.openclawEntry)} gateway run </dev/null >>"$d/gateway.out" 2>&1 &`,
        '  echo $! >"$d/gateway.pid"; echo started pid $!;;',
        'stop) [ -f "$d/gateway.pid" ] || { echo not running; exit 0; }',
        '  p=$(cat "$d/gateway.pid"); kill "$p" 2>/dev/null; i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done',
        // setsid made the gateway a process-group leader: take its helpers down with it.
        '  kill -9 -- "-$p" 2>/dev/null; rm -f "$d/gateway.pid"; echo stopped;;',
        'esac',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    sshd = await startSshd({
      binDir: home.install.nodeBinDir,
      env: { HOME: home.dir, OPENCLAW_STATE_DIR: home.stateDir, NO_COLOR: '1' },
    });
    // The inventory goes through the real config schema, as clawmedic.yaml does.
    const inventoryHost = hostConfigFor(sshd, {
      name: 'realclaw',
      openclaw: { bin: path.join(home.install.cacheDir, 'node_modules', '.bin', 'openclaw'), stateDir: home.stateDir },
      gateway: { port: home.port, url: `http://127.0.0.1:${home.port}` },
      supervisor: { kind: 'commands', start: `sh ${supervise} start`, stop: `sh ${supervise} stop` },
      allowKillPortOwner: true,
    });
    const config = parseConfigText(stringify({ hosts: [inventoryHost] }), 'clawmedic.yaml');
    const loaded: LoadedConfig = {
      file: 'clawmedic.yaml',
      config,
      hosts: config.hosts as HostConfig[],
      secrets: { redisUrl: 'redis://127.0.0.1:6379', sshPrivateKey: sshd.privateKey, jobKey: randomBytes(32).toString('hex') },
    };
    host = loaded.hosts[0]!;
    // No runner injected: the SshRunner comes from the secrets + jobs config, as in production.
    // startWaitSec is generous because the CPU may be shared with another test run.
    const built = await createRemoteHostOps(loaded, { logger: createLogger('silent'), verifyWindowSec: 3, startWaitSec: 150 });
    ops = built.ops;
    runner = built.runner;
    closeOps = built.close;
  });

  afterAll(async () => {
    if (runner) await sh(`sh ${supervise} stop`).catch(() => undefined);
    await squatter?.stop().catch(() => undefined);
    const pid = gatewayPid();
    if (alive(pid)) process.kill(-pid!, 'SIGKILL');
    await closeOps?.();
    await sshd?.stop();
    await home?.dispose();
  });

  it('gateway.mode removed right after onboard (start blocked) → gateway_mode_unset; config set + start brings the real gateway up', async () => {
    home.unsetGatewayMode();
    // 2026.9.6's onboard leaves an openclaw.json.bak without gateway.mode; 2026.4.29's leaves none.
    // Either way there is no backup with the mode to auto-restore from, so the start is blocked.
    if (existsSync(`${home.configPath}.bak`)) expect(JSON.parse(readFileSync(`${home.configPath}.bak`, 'utf8')).gateway?.mode).toBeUndefined();
    else expect(home.install.version).toMatch(/^2026\.4\./);
    const since = new Date();
    await sh(`sh ${supervise} start`);
    const blockedPid = gatewayPid();
    await waitUntil('blocked gateway exits', () => !alive(blockedPid), 90_000, 250);
    expect(readFileSync(path.join(home.dir, 'gateway.out'), 'utf8')).toMatch(/Gateway start blocked: existing config is missing gateway\.mode/);
    expect(await isListening(home.port)).toBe(false);

    const before = await ops.diagnose(host, { since });
    expect(before.probeOk).toBe(false);
    expect(headline(before), describeVerdict(before)).toBe('gateway_mode_unset');
    // The blocked start's own line, read from the file log over SSH. 2026.4.29 prints it to stdout
    // only: its file log ends at the start's first line, which is what the evidence cites there.
    expect(before.findings[0]!.evidence.join('\n')).toMatch(
      home.install.version.startsWith('2026.4.') ? /loading configuration… \(the start never got ready\)/ : /Gateway start blocked: existing config is missing gateway\.mode/,
    );

    const run = await runFix(before);
    expect(run.plan.steps.map((s) => s.kind)).toEqual(['set_gateway_mode_local', 'start_gateway', 'wait_for_gateway']);
    expect(run.steps.map((s) => `${s.kind}:${s.ok}`), describeRun(run)).toEqual([
      'set_gateway_mode_local:true',
      'start_gateway:true',
      'wait_for_gateway:true',
    ]);
    expect(run.check?.fixed, describeRun(run)).toBe(true);
    expect(run.after?.probeOk).toBe(true);
    expect(home.readConfig().gateway?.mode).toBe('local');
    // Not restored from a backup: the token is still the one onboard wrote.
    expect(home.readConfig().gateway?.auth?.token).toBe(home.token);
    const [a] = await staleTab({ url: home.wsUrl, token: home.token, origin: `http://127.0.0.1:${home.port}`, attempts: 1 });
    expect(a?.helloOk, JSON.stringify(a)).toBe(true);
  });

  it('python3 on the gateway port while it is down, allowKillPortOwner → port_conflict; kill + start brings the real gateway up', async () => {
    await sh(`sh ${supervise} stop`);
    expect(await isListening(home.port)).toBe(false);
    squatter = await occupyPort(home.port);
    const since = new Date();

    const before = await ops.diagnose(host, { since });
    expect(before.probeOk).toBe(false);
    expect(headline(before), describeVerdict(before)).toBe('port_conflict');
    expect(before.findings[0]!.summary).toContain('python3');
    expect(before.findings[0]!.summary).toContain(`pid ${squatter.pid}`);
    // The same verdict on a host that does not allow killing the owner: nothing is killed.
    expect(ops.plan({ ...host, allowKillPortOwner: false }, before).steps.map((s) => s.kind)).toEqual([]);

    const run = await runFix(before);
    expect(run.plan.steps.map((s) => s.kind)).toEqual(['kill_port_owner', 'start_gateway', 'wait_for_gateway']);
    expect(run.plan.steps[0]!.description).toContain(`pid ${squatter.pid}`);
    expect(run.steps.map((s) => `${s.kind}:${s.ok}`), describeRun(run)).toEqual([
      'kill_port_owner:true',
      'start_gateway:true',
      'wait_for_gateway:true',
    ]);
    expect(alive(squatter.pid)).toBe(false);
    // The gateway on the port now is the one the inventory's start script launched.
    expect(alive(gatewayPid())).toBe(true);
    expect(run.check?.fixed, describeRun(run)).toBe(true);
    expect(run.after?.probeOk).toBe(true);
    const [a] = await staleTab({ url: home.wsUrl, token: home.token, origin: `http://127.0.0.1:${home.port}`, attempts: 1 });
    expect(a?.helloOk, JSON.stringify(a)).toBe(true);
    await squatter.stop();
    squatter = undefined;
  });

  it('token rotated under a connected tab → token_rotated; the fresh_dashboard_link step hands the tab a token that connects', async () => {
    const origin = `http://127.0.0.1:${home.port}`;
    const oldToken = home.token;
    const since = new Date();
    const tab = startControlUiClient({ url: home.wsUrl, token: oldToken, origin, attempts: 4, holdMs: Infinity, backoff: FAST });
    await tab.waitFor((a) => a[0]?.helloOk === true, 30_000);
    await home.rotateToken(`rotated-${Date.now()}`);
    const attempts = await tab.done;
    expect(attempts[0]?.closeCode).toBe(4001);
    if (home.install.version.startsWith('2026.4.')) {
      // 2026.4.29 restarts itself for a new gateway.auth.token (SIGUSR1, in-process; connects
      // refused for a few seconds) where 2026.9.6 hot-reloads it: the tab goes on looping after it.
      await waitForHello(home.wsUrl, home.token, origin);
      const more = await staleTab({ url: home.wsUrl, token: oldToken, origin, attempts: 3, backoff: FAST });
      expect(more.every((a) => a.error?.details?.code === 'AUTH_TOKEN_MISMATCH'), JSON.stringify(more)).toBe(true);
    } else {
      expect(attempts.slice(1).every((a) => a.error?.details?.code === 'AUTH_TOKEN_MISMATCH'), JSON.stringify(attempts)).toBe(true);
    }

    const before = await ops.diagnose(host, { since });
    expect(before.probeOk).toBe(true);
    expect(headline(before), describeVerdict(before)).toBe('token_rotated');

    let linkToken: string | undefined;
    const run = await runFix(before, async (steps) => {
      // The user opens the private link in the stale tab during the verify window.
      const link = steps.find((s) => s.kind === 'fresh_dashboard_link')?.result;
      const url = link?.secret;
      linkToken = url ? new URL(url).hash.match(/token=([^&]+)/)?.[1] : undefined;
      if (linkToken) linkToken = decodeURIComponent(linkToken);
      if (linkToken) await staleTab({ url: home.wsUrl, token: linkToken, origin, attempts: 1 });
    });
    expect(run.plan.steps.map((s) => s.kind)).toEqual(['fresh_dashboard_link']);
    const link = run.steps[0]!;
    expect(link.ok, describeRun(run)).toBe(true);
    // The link is the step's secret only: never in the output that reaches chat, audit and logs.
    expect(link.result.secret).toMatch(/^https?:\/\/.*#token=/);
    expect(link.result.output).toBe('');
    expect(linkToken).toBe(home.token);
    expect(run.check?.fixed, describeRun(run)).toBe(true);

    const [stillOld] = await staleTab({ url: home.wsUrl, token: oldToken, origin, attempts: 1 });
    expect(stillOld?.error?.details?.code).toBe('AUTH_TOKEN_MISMATCH');
    const [withLink] = await staleTab({ url: home.wsUrl, token: linkToken!, origin, attempts: 1 });
    expect(withLink?.helloOk, JSON.stringify(withLink)).toBe(true);
  });
});
