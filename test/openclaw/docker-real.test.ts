/**
 * clawmedic against OpenClaw 2026.9.6 in a REAL Docker container over a REAL sshd: a stale tab, a
 * `docker stop`, the gateway process killed inside the container (the restart policy brings it back:
 * RestartCount 0 → 1), the one-off container repair, and a broken plugin disabled in a one-off container. The engine and the base image come from
 * scripts/docker-base.sh (docker.io, dockerd on vfs with the host network, a debootstrap image);
 * when they cannot be set up the scenarios are skipped with the reason.
 * vfs storage is slow and the machine is shared: few container boots, long deadlines, no timed assertions.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/domain/diagnosis.js';
import type { HostConfig } from '../../src/domain/host.js';
import { diagnose } from '../../src/openclaw/diagnose.js';
import { buildEvidenceScript, EVIDENCE_MAX_OUTPUT_BYTES, parseEvidence } from '../../src/openclaw/evidence.js';
import { planFix, verifyFix, waitForGatewayStep } from '../../src/openclaw/plan.js';
import { SshRunner } from '../../src/remote/ssh-runner.js';
import { hostConfigFor, startSshd, type SshdHandle } from '../support/sshd.js';
import { ensureOpenclawInstalled, freePort, isListening, REPO_DIR, staleTab, waitUntil } from '../support/real-openclaw/index.js';

const execFileP = promisify(execFile);
const SCRIPT = path.join(REPO_DIR, 'scripts', 'docker-base.sh');
const FAST = { initialMs: 200, factor: 1.7, maxMs: 1500 };
/** A gateway boot in a vfs container on a busy 2-core machine took 1-4 min: wait long, assert nothing on time. */
const BOOT_MS = 420_000;

async function sh(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; out: string }> {
  try {
    const r = await execFileP(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}` };
  }
}

describe('clawmedic on a real OpenClaw container (docker)', () => {
  let skipWhy = '';
  let sshd: SshdHandle;
  let runner: SshRunner;
  let host: HostConfig;
  let port = 0;
  const name = `clawmedic-gw-${process.pid}`;
  const volume = `${name}-state`;
  const timings: Record<string, number> = {};

  async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
    const t = Date.now();
    try {
      return await f();
    } finally {
      timings[label] = Date.now() - t;
    }
  }
  const inspect = async (fmt: string) => (await sh('docker', ['inspect', '-f', fmt, name], 30_000)).out.trim();
  const healthz = async () => (await sh('curl', ['-s', '-m', '3', `http://127.0.0.1:${port}/healthz`], 10_000)).out.includes('"live"');
  const waitUp = (what: string) => waitUntil(what, healthz, BOOT_MS, 2000);

  async function diagnoseNow(since?: Date): Promise<Verdict> {
    const r = await runner.exec(host, buildEvidenceScript(host), { timeoutMs: 300_000, maxOutputBytes: EVIDENCE_MAX_OUTPUT_BYTES });
    return diagnose(host, parseEvidence(r.stdout), undefined, since ? { since } : {});
  }
  const describeVerdict = (v: Verdict): string =>
    JSON.stringify({ probeOk: v.probeOk, gaps: v.gaps, findings: v.findings.map((f) => [f.cause, f.weight, f.current, f.summary, f.evidence]) });

  async function runPlan(v: Verdict): Promise<Array<{ kind: string; exitCode: number | null; out: string }>> {
    const out: Array<{ kind: string; exitCode: number | null; out: string }> = [];
    // As the fix worker does with config fix.startWaitSec: a vfs container on a shared machine boots in minutes.
    const steps = planFix(host, v).steps.map((s) => (s.kind === 'wait_for_gateway' ? waitForGatewayStep(host, BOOT_MS / 1000) : s));
    for (const step of steps) {
      const r = await timed(`step ${step.kind}`, () => runner.exec(host, step.script, { timeoutMs: Math.max(step.timeoutMs, BOOT_MS) }));
      out.push({ kind: step.kind, exitCode: r.exitCode, out: r.stdout + r.stderr });
      if (r.exitCode !== 0 && !step.continueOnError) break;
    }
    return out;
  }

  beforeAll(async () => {
    const install = ensureOpenclawInstalled();
    const base = await timed('docker-base ensure', () => sh('bash', [SCRIPT, 'ensure'], 40 * 60_000));
    if (base.code !== 0) {
      skipWhy = `Docker could not be set up (scripts/docker-base.sh ensure): ${base.out.trim().split('\n').slice(-3).join(' | ')}`;
      return;
    }
    port = await freePort();
    const run = await timed('container create + onboard', () =>
      execFileP('bash', [SCRIPT, 'run', name, String(port), volume], { timeout: 20 * 60_000, env: { ...process.env, OPENCLAW_CACHE_DIR: install.cacheDir } }).then(
        () => ({ code: 0, out: '' }),
        (e: { message: string }) => ({ code: 1, out: e.message }),
      ),
    );
    if (run.code !== 0) {
      skipWhy = `the OpenClaw container did not start: ${run.out.slice(-400)}`;
      return;
    }
    sshd = await startSshd({ env: { NO_COLOR: '1' } });
    runner = new SshRunner();
    host = hostConfigFor(sshd, {
      install: 'docker',
      container: name,
      supervisor: { kind: 'docker', container: name },
      gateway: { port, url: `http://127.0.0.1:${port}` },
    });
    await timed('first boot to /healthz', () => waitUp('gateway in the container answers /healthz'));
  }, 60 * 60_000);

  afterAll(async () => {
    // Timings help the next person judge what fits a CI budget.
    console.log(`docker-real timings (ms): ${JSON.stringify(timings)}`);
    if (skipWhy) console.warn(`docker-real skipped: ${skipWhy}`);
    await runner?.close();
    await sshd?.stop();
    if (port) await sh('bash', [SCRIPT, 'rm', name, volume], 120_000);
  }, 300_000);

  it('a stale tab against the container → stale_client / token_mismatch, no restart planned', async (ctx) => {
    if (skipWhy) return ctx.skip();
    const since = new Date();
    await staleTab({ url: `ws://127.0.0.1:${port}`, token: 'old-tab-token', origin: `http://localhost:${port}`, attempts: 6, backoff: FAST });
    const v = await timed('diagnose stale tab', () => diagnoseNow(since));
    expect(v.probeOk, describeVerdict(v)).toBe(true);
    expect(['stale_client', 'token_mismatch'], describeVerdict(v)).toContain(v.findings[0]!.cause);
    expect(planFix(host, v).steps.map((s) => s.kind)).toEqual(['fresh_dashboard_link']);
  }, 600_000);

  it('the gateway killed inside the container: the restart policy brings it back (RestartCount 0 → 1) and the crash is named', async (ctx) => {
    if (skipWhy) return ctx.skip();
    const before = Number(await inspect('{{.RestartCount}}'));
    const pid = Number(await inspect('{{.State.Pid}}'));
    expect(pid).toBeGreaterThan(1);
    // The container's main process is the gateway: SIGKILL it from the host, as the kernel or a stray kill would.
    process.kill(pid, 'SIGKILL');
    await waitUntil('restart policy restarted the container', async () => Number(await inspect('{{.RestartCount}}')) > before, 120_000, 1000);
    await timed('boot after kill', () => waitUp('gateway back after the kill'));
    const v = await timed('diagnose after kill', () => diagnoseNow());
    expect(v.findings[0]!.cause, describeVerdict(v)).toBe('crash_loop');
    expect(v.findings[0]!.summary).toMatch(/restart policy/);
  }, 900_000);

  it('docker stop → gateway_down (not OOM, although docker records 137); the one-off doctor repair brings it back', async (ctx) => {
    if (skipWhy) return ctx.skip();
    await timed('docker stop', () => sh('docker', ['stop', name], 120_000));
    expect(await isListening(port)).toBe(false);
    const v = await timed('diagnose stopped', () => diagnoseNow());
    expect(v.findings[0]!.cause, describeVerdict(v)).toBe('gateway_down');
    expect(v.findings.map((f) => f.cause)).not.toContain('out_of_memory');
    const results = await runPlan(v);
    expect(results.map((r) => r.kind)).toEqual(['stop_gateway', 'container_doctor_fix', 'start_gateway', 'wait_for_gateway']);
    const doctor = results.find((r) => r.kind === 'container_doctor_fix')!;
    // Doctor ran in the one-off container: not refused for a running gateway.
    expect(doctor.out).not.toContain('StateDatabaseCoordinatorContentionError');
    expect(results.find((r) => r.kind === 'wait_for_gateway')?.exitCode, JSON.stringify(results.map((r) => [r.kind, r.exitCode, r.out.slice(-300)]))).toBe(0);
  }, 1_800_000);

  it('a plugin that fails at load inside the container → plugin_failure; disabled in a one-off container, started, verified', async (ctx) => {
    if (skipWhy) return ctx.skip();
    // The user drops a local plugin whose code throws into the state volume and enables it (as in the
    // native sequence: `activation.onStartup`, else 2026.9.6 defers a plugin without channels at start).
    const local = mkdtempSync(path.join(os.tmpdir(), 'clawmedic-plugin-'));
    try {
      writeFileSync(
        path.join(local, 'openclaw.plugin.json'),
        JSON.stringify({ id: 'broken-fixture', activation: { onStartup: true }, configSchema: { type: 'object', additionalProperties: false, properties: {} } }),
      );
      writeFileSync(
        path.join(local, 'package.json'),
        JSON.stringify({ name: 'broken-fixture', version: '1.0.0', type: 'module', main: 'index.js', openclaw: { extensions: ['./index.js'] } }),
      );
      writeFileSync(path.join(local, 'index.js'), "throw new Error('broken-fixture: intentional load failure');\n");
      const inContainer = '/root/.openclaw/broken-plugin';
      const cp = await sh('docker', ['cp', `${local}/.`, `${name}:${inContainer}`], 120_000);
      expect(cp.code, cp.out).toBe(0);
      for (const args of [
        ['config', 'set', 'plugins.load.paths', JSON.stringify([inContainer])],
        ['config', 'set', 'plugins.entries.broken-fixture.enabled', 'true'],
      ]) {
        const r = await timed(`docker exec openclaw ${args.slice(0, 3).join(' ')}`, () => sh('docker', ['exec', name, 'openclaw', ...args], 300_000));
        expect(r.code, r.out).toBe(0);
      }
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
    await timed('docker restart with the plugin', () => sh('docker', ['restart', name], 300_000));
    await timed('boot with the broken plugin', () => waitUp('gateway back with the broken plugin'));

    const v = await timed('diagnose broken plugin', () => diagnoseNow());
    expect(v.probeOk, describeVerdict(v)).toBe(true);
    expect(v.findings[0]!.cause, describeVerdict(v)).toBe('plugin_failure');
    expect(v.findings[0]!.details?.pluginIds).toEqual(['broken-fixture']);

    const fixStarted = new Date();
    const results = await runPlan(v);
    const shown = JSON.stringify(results.map((r) => [r.kind, r.exitCode, r.out.slice(-300)]));
    expect(results.map((r) => `${r.kind}:${r.exitCode}`), shown).toEqual([
      'stop_gateway:0',
      'container_disable_plugin:0',
      'start_gateway:0',
      'wait_for_gateway:0',
    ]);
    const after = await timed('diagnose after the repair', () => diagnoseNow(fixStarted));
    expect(after.probeOk, describeVerdict(after)).toBe(true);
    expect(after.findings.some((f) => f.cause === 'plugin_failure'), describeVerdict(after)).toBe(false);
    expect(verifyFix(v, after).fixed, describeVerdict(after)).toBe(true);
  }, 1_800_000);
});
