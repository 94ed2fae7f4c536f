/**
 * The OpenClaw host stand-in, run directly (no sshd): its executables behave like OpenClaw
 * 2026.9.6 on the samples' host, and the whole evidence → diagnose → plan → fix → verify loop
 * works against it for every scenario and supervisor.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Cause } from '../../../src/domain/diagnosis.js';
import type { HostConfig } from '../../../src/domain/host.js';
import { diagnose } from '../../../src/openclaw/diagnose.js';
import { buildEvidenceScript, parseEvidence } from '../../../src/openclaw/evidence.js';
import { parseDashboardUrl, planFix, verifyFix } from '../../../src/openclaw/plan.js';
import { createStandin, SCENARIOS, type ScenarioName, type Standin } from '../../support/host-standin/index.js';
import { commandsHost, dockerHost, nativeHost } from './helpers.js';

let s: Standin;
beforeAll(async () => {
  s = await createStandin();
});
afterAll(async () => {
  await s.cleanup();
});
beforeEach(async () => {
  await s.clearCalls();
});

function run(script: string, args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['-c', script, 'sh', ...args], { env: { ...process.env, ...s.env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const oc = (...args: string[]) => run('openclaw "$@"', args);

describe('stand-in executables', () => {
  it('are executable, and every call lands in calls.log with its argv', async () => {
    for (const b of ['openclaw', 'ss', 'free', 'systemctl', 'docker', 'journalctl', 'dmesg']) {
      const p = path.join(s.binDir, b);
      expect(existsSync(p), b).toBe(true);
      expect(statSync(p).mode & 0o111, b).not.toBe(0);
    }
    oc('--version');
    run("ss -tlnp; free -m; openclaw config get 'gateway.mode'");
    oc('plugins', 'disable', 'a b\tc\nd\\e');
    const calls = await s.calls();
    expect(calls).toEqual([
      ['openclaw', '--version'],
      ['ss', '-tlnp'],
      ['free', '-m'],
      ['openclaw', 'config', 'get', 'gateway.mode'],
      ['openclaw', 'plugins', 'disable', 'a b\tc\nd\\e'],
    ]);
  });

  it('serve the real samples with this state dir as log file and config', async () => {
    await s.setScenario('healthy');
    expect(oc('--version').stdout.trim()).toBe('OpenClaw 2026.9.6 (eb377ac)');
    const st = JSON.parse(oc('gateway', 'status', '--json').stdout) as { logFile: string; rpc: { ok: boolean } };
    expect(st.rpc.ok).toBe(true);
    expect(st.logFile).toBe(path.join(s.stateDir, 'openclaw.log'));
    expect(oc('config', 'get', 'gateway.mode').stdout.trim()).toBe('local');
    expect(oc('config', 'get', 'gateway.auth.token').stdout.trim()).toBe('__OPENCLAW_REDACTED__');
    // A real process titled like the real gateway listens on the stand-in's port (the real ss names it).
    expect(s.gatewayPid).toBeGreaterThan(0);
    expect(run('ss -tlnp').stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:${s.port} .*users:\\(\\("openclaw-gatewa",pid=${s.gatewayPid},fd=\\d+\\)\\)`));
    expect(readFileSync(`/proc/${s.gatewayPid}/status`, 'utf8')).toMatch(/^VmRSS:/m);
    // GET /healthz answers as the real 2026.9.6 gateway does (the real curl).
    const hz = run(`curl -s --max-time 2 -w ' code=%{http_code}' http://127.0.0.1:${s.port}/healthz`);
    expect(hz.stdout).toBe('{"ok":true,"status":"live"} code=200');
  });

  it('replays the real CLI wall times when asked (latency 0.1: gateway status --json ≈ 0.36 s, --version ≈ 0.05 s)', async () => {
    await s.setScenario('healthy');
    const time = (f: () => unknown) => {
      const t0 = Date.now();
      f();
      return Date.now() - t0;
    };
    await s.setLatency(0.1);
    try {
      expect(time(() => oc('gateway', 'status', '--json'))).toBeGreaterThanOrEqual(360);
      const v = time(() => oc('--version'));
      expect(v).toBeGreaterThanOrEqual(50);
    } finally {
      await s.setLatency(0);
    }
  });

  it('doctor --fix refuses while the gateway runs (2026.9.6) and works once it is stopped', async () => {
    await s.setScenario('gateway_down', { running: true });
    const refused = oc('doctor', '--fix');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('StateDatabaseCoordinatorContentionError: another OpenClaw process owns gateway-lifecycle');
    expect(run('systemctl --user stop openclaw-gateway.service').status).toBe(0);
    expect((await s.state()).running).toBe('0');
    expect(oc('doctor', '--fix').status).toBe(0);
  });

  it('gateway restart without systemd exits 1 with "Gateway service disabled." and changes nothing', async () => {
    await s.setScenario('gateway_down');
    const r = oc('gateway', 'restart');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Gateway service disabled.');
    const j = oc('gateway', 'restart', '--json');
    expect(JSON.parse(j.stdout)).toMatchObject({ action: 'restart', ok: false, error: 'Gateway service disabled.' });
    expect((await s.state()).running).toBe('0');
  });

  it('supervisors flip the running flag; a start after a stop heals gateway_down', async () => {
    await s.setScenario('gateway_down');
    expect(run('systemctl --user show openclaw-gateway.service').stdout).toContain('ActiveState=inactive');
    run('systemctl --user start openclaw-gateway.service');
    expect(await s.state()).toMatchObject({ running: '1', scenario: 'healthy' });
    expect(run('systemctl --user show x').stdout).toContain('ActiveState=active');
    run('docker stop openclaw');
    expect((await s.state()).running).toBe('0');
    expect(run('docker inspect -f x openclaw').stdout).toContain('Running=false');
    run('docker start openclaw');
    expect((await s.state()).running).toBe('1');
    expect(run('docker exec -e FOO=bar openclaw sh -c \'echo "$FOO"\'').stdout.trim()).toBe('bar');
  });

  it('gateway run while one runs: exit 78, second-gateway lines in the log', async () => {
    await s.setScenario('healthy');
    const r = oc('gateway', 'run');
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('requires state migration');
  });

  it('a restart does not cure a stale tab: the 4008s keep coming', async () => {
    await s.setScenario('stale_client');
    run('systemctl --user restart openclaw-gateway.service');
    const t = new Date(Date.now() - 50);
    const ev = parseEvidence(run(buildEvidenceScript(nativeHost())).stdout);
    const after = diagnose(nativeHost(), ev, undefined, { since: t });
    expect(after.findings[0]!.cause).toBe('stale_client');
    expect((await s.state()).scenario).toBe('stale_client');
  });

  it('port conflict: starting while the owner lives fails; the owner is a real process', async () => {
    await s.setScenario('port_conflict');
    const st = await s.state();
    const pid = Number(st.owner_pid);
    expect(pid).toBeGreaterThan(1);
    expect(run('ss -tlnp').stdout).toContain(`users:(("python3",pid=${pid},fd=3))`);
    run('systemctl --user start openclaw-gateway.service');
    expect((await s.state()).running).toBe('0');
    expect(JSON.parse(oc('gateway', 'status', '--json').stdout).port.listeners[0].pid).toBe(pid);
  });

  it('appendLog lines are what the evidence pass reads', async () => {
    await s.setScenario('healthy');
    const line = `${new Date().toISOString().replace('Z', '+00:00')} [telegram] [default] getUpdates failed: 409 Conflict: terminated by other getUpdates request`;
    await s.appendLog([line]);
    const v = diagnose(nativeHost(), parseEvidence(run(buildEvidenceScript(nativeHost())).stdout));
    expect(v.findings[0]!.cause).toBe('telegram_conflict');
  });

  it('the stale --token in ExecStart never leaves the host unredacted', async () => {
    await s.setScenario('token_override');
    const out = run(buildEvidenceScript(nativeHost())).stdout;
    expect(run('systemctl --user show u').stdout).toContain('stale-standin-token-4f2a9c');
    expect(out).not.toContain('stale-standin-token-4f2a9c');
    expect(out).toContain('--token <redacted>');
  });

  it('the fresh dashboard link is parsed from the real sample output', async () => {
    await s.setScenario('stale_client');
    expect(parseDashboardUrl(oc('dashboard', '--json', '--no-open').stdout)).toBe(`http://127.0.0.1:${s.port}/#token=standin-dashboard-token-7c1e9a`);
  });
});

const EXPECTED: Record<ScenarioName, { cause: Cause; hostFix: boolean }> = {
  healthy: { cause: 'healthy', hostFix: false },
  docker_healthy: { cause: 'healthy', hostFix: false },
  token_mismatch: { cause: 'token_mismatch', hostFix: true },
  stale_client: { cause: 'stale_client', hostFix: true },
  token_rotated: { cause: 'token_rotated', hostFix: true },
  config_autorestored: { cause: 'config_autorestored', hostFix: true },
  token_override: { cause: 'token_mismatch', hostFix: true },
  // A browser (Control UI) device: the fresh link gets its device token reissued.
  device_token_mismatch: { cause: 'device_token_mismatch', hostFix: true },
  gateway_down: { cause: 'gateway_down', hostFix: true },
  crash_loop: { cause: 'crash_loop', hostFix: true },
  oom: { cause: 'out_of_memory', hostFix: true },
  heap_oom: { cause: 'out_of_memory', hostFix: true },
  plugin_failure: { cause: 'plugin_failure', hostFix: true },
  port_conflict: { cause: 'port_conflict', hostFix: true },
  mode_unset: { cause: 'gateway_mode_unset', hostFix: true },
  rate_limited: { cause: 'rate_limited', hostFix: false },
  insecure_context: { cause: 'insecure_context', hostFix: false },
  origin_not_allowed: { cause: 'origin_not_allowed', hostFix: false },
  second_gateway: { cause: 'second_gateway', hostFix: false },
  telegram_conflict: { cause: 'telegram_conflict', hostFix: false },
};

/** evidence → diagnose → planFix → run the steps → fresh evidence since the fix → verifyFix. */
async function fixLoop(inventory: HostConfig, scenario: ScenarioName) {
  // The stand-in's gateway port is a real, free one (its listeners are real): the inventory names it.
  const host: HostConfig = { ...inventory, gateway: { ...inventory.gateway, port: s.port } };
  await s.setScenario(scenario);
  const before = diagnose(host, parseEvidence(run(buildEvidenceScript(host)).stdout));
  const plan = planFix(host, before);
  const started = new Date(Date.now() - 50);
  const results: string[] = [];
  for (const step of plan.steps) {
    const r = run(step.script);
    results.push(`${step.kind}=${r.status}`);
    if (r.status !== 0 && !step.continueOnError) break;
  }
  const after = diagnose(host, parseEvidence(run(buildEvidenceScript(host)).stdout), undefined, { since: started });
  return { before, plan, results, after, verify: verifyFix(before, after) };
}

describe('evidence → diagnose → fix → verify against the stand-in', () => {
  const systemd = nativeHost({ allowKillPortOwner: true });
  for (const scenario of SCENARIOS) {
    it(`systemd: ${scenario}`, async () => {
      const { before, plan, results, verify } = await fixLoop(systemd, scenario);
      const exp = EXPECTED[scenario];
      expect(before.findings[0]!.cause).toBe(exp.cause);
      expect(before.gaps.filter((g) => !g.startsWith('kernel_oom'))).toEqual([]);
      if (exp.hostFix) {
        expect(plan.steps.length).toBeGreaterThan(0);
        expect(results.every((r) => r.endsWith('=0')), results.join(' ')).toBe(true);
        expect(verify, verify.reason).toMatchObject({ fixed: true });
      } else {
        expect(plan.steps).toEqual([]);
      }
    });
  }

  const others: Array<[string, HostConfig, ScenarioName[]]> = [
    ['docker', dockerHost({ allowKillPortOwner: true }), ['docker_healthy', 'gateway_down', 'crash_loop', 'oom', 'plugin_failure', 'stale_client', 'mode_unset']],
    [
      'commands',
      commandsHost({ allowKillPortOwner: true, supervisor: { kind: 'commands', start: 'openclaw gateway run >/dev/null 2>&1', stop: 'openclaw gateway stop --force' } }),
      ['gateway_down', 'port_conflict', 'plugin_failure', 'heap_oom', 'token_rotated'],
    ],
  ];
  for (const [label, host, list] of others) {
    for (const scenario of list) {
      it(`${label}: ${scenario}`, async () => {
        const { before, plan, results, verify } = await fixLoop(host, scenario);
        expect(before.findings[0]!.cause).toBe(EXPECTED[scenario].cause);
        if (EXPECTED[scenario].hostFix) {
          expect(results.every((r) => r.endsWith('=0')), results.join(' ')).toBe(true);
          expect(verify, verify.reason).toMatchObject({ fixed: true });
        } else {
          expect(plan.steps).toEqual([]);
        }
      });
    }
  }

  it('the wrong fix leaves it broken: restarting with the port still taken', async () => {
    await s.setScenario('port_conflict');
    const host = nativeHost();
    const before = diagnose(host, parseEvidence(run(buildEvidenceScript(host)).stdout));
    const started = new Date(Date.now() - 50);
    run('systemctl --user restart openclaw-gateway.service');
    const after = diagnose(host, parseEvidence(run(buildEvidenceScript(host)).stdout), undefined, { since: started });
    expect(verifyFix(before, after)).toMatchObject({ fixed: false });
  });

  it('the docker fix runs through docker (stop, one-off doctor, start), the systemd fix through systemctl', async () => {
    await s.setScenario('gateway_down');
    await fixLoop(dockerHost(), 'gateway_down');
    const progs = new Set((await s.calls()).map((c) => `${c[0]} ${c[1]}`));
    expect(progs.has('docker stop')).toBe(true);
    expect(progs.has('docker run')).toBe(true);
    expect(progs.has('docker start')).toBe(true);
    expect(progs.has('systemctl --user')).toBe(false);
  });
});
