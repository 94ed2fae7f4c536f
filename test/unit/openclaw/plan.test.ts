import { describe, expect, it } from 'vitest';
import type { Cause, Finding, Verdict } from '../../../src/domain/diagnosis.js';
import type { HostConfig } from '../../../src/domain/host.js';
import { diagnose } from '../../../src/openclaw/diagnose.js';
import { parseEvidence } from '../../../src/openclaw/evidence.js';
import { parseDashboardUrl, planFix, startWaitSecFor, verifyFix, verifyHolds } from '../../../src/openclaw/plan.js';
import { buildBringBackPlan } from '../../../src/jobs/remote-host-ops.js';
import { DEFAULTS } from '../../../src/constants.js';
import { commandsHost, dockerHost, evidenceOutput, fx, fxLines, nativeHost } from './helpers.js';

function v(host: HostConfig, parts: Parameters<typeof evidenceOutput>[0], now: string): Verdict {
  return diagnose(host, parseEvidence(evidenceOutput(parts)), new Date(now));
}
function verdictOf(cause: Cause, over: Partial<Finding> = {}, probeOk = true): Verdict {
  return {
    host: 'prod',
    findings: [{ cause, confidence: 'high', weight: 80, summary: cause, evidence: [], userActions: [], ...over }],
    probeOk,
    gaps: [],
    at: '2026-11-25T15:00:00.000Z',
  };
}
const kinds = (p: { steps: { kind: string }[] }) => p.steps.map((s) => s.kind);
const down = { status: fx('gateway-status-down.json'), ss: fx('derived/ss-nothing.txt'), health: 'x', healthRc: 1 };

describe('planFix: client-side token causes never restart', () => {
  it('stale_client: only a fresh dashboard link, secret output, not disruptive', () => {
    const verdict = v(nativeHost(), { log: fx('log-stale-tab-loop.jsonl') }, '2026-11-25T15:06:40Z');
    const p = planFix(nativeHost(), verdict);
    expect(p.cause).toBe('stale_client');
    expect(kinds(p)).toEqual(['fresh_dashboard_link']);
    expect(p.steps[0]!.secretOutput).toBe(true);
    expect(p.steps[0]!.mutates).toBe(false);
    expect(p.steps[0]!.script).toContain('openclaw dashboard --json --no-open');
    expect(p.disruptive).toBe(false);
    expect(p.userActions.join(' ')).toMatch(/fresh dashboard link/);
  });

  it('token_rotated and token_mismatch (docker): the link through docker exec', () => {
    const p = planFix(dockerHost(), v(dockerHost(), { log: fx('log-token-rotated-while-connected.jsonl') }, '2026-11-25T15:03:30Z'));
    expect(p.cause).toBe('token_rotated');
    expect(p.steps.map((s) => s.script.split('\n').pop())).toEqual(['_cm_to 60 docker exec -- openclaw openclaw dashboard --json --no-open </dev/null 2>/dev/null']);
    const m = planFix(nativeHost(), verdictOf('token_mismatch'));
    expect(kinds(m)).toEqual(['fresh_dashboard_link']);
  });

  it('stale --token override (systemd): stop → move drop-ins aside → install --force → start → verify → link', () => {
    const verdict = v(
      nativeHost(),
      { status: fx('gateway-status-token-mismatch.json'), service: fx('derived/systemd-show-token-override.txt'), log: fx('log-wrong-token.jsonl') },
      '2026-11-25T15:02:00Z',
    );
    const p = planFix(nativeHost(), verdict);
    expect(kinds(p)).toEqual(['stop_gateway', 'remove_token_override', 'reinstall_service', 'start_gateway', 'wait_for_gateway', 'fresh_dashboard_link']);
    expect(p.steps[2]!.script).toContain('openclaw gateway install --force');
    expect(p.steps[0]!.script).toContain('systemctl --user stop -- openclaw-gateway.service');
    expect(p.disruptive).toBe(true);
    // docker/commands: the override is in files clawmedic does not own: user action only.
    const d = planFix(dockerHost(), verdict);
    expect(d.steps).toEqual([]);
    expect(d.userActions.join(' ')).toMatch(/--token argument/);
  });

  it('device token mismatch: a browser device gets the fresh link (its device token is reissued), another device a user action', () => {
    const browser = planFix(nativeHost(), verdictOf('device_token_mismatch', { details: { clientId: 'webchat-ui', origin: 'http://127.0.0.1:18789' } }));
    expect(kinds(browser)).toEqual(['fresh_dashboard_link']);
    expect(browser.disruptive).toBe(false);
    const node = planFix(nativeHost(), verdictOf('device_token_mismatch', { details: { clientId: 'openclaw-ios' }, userActions: ['connect it with the gateway token'] }));
    expect(node.steps).toEqual([]);
    expect(node.userActions.join(' ')).toMatch(/gateway token/);
    // No link during a lockout, whatever the cause.
    const locked = verdictOf('device_token_mismatch', { details: { clientId: 'webchat-ui' } });
    locked.findings.push({ cause: 'rate_limited', confidence: 'high', weight: 78, summary: 'x', evidence: [], userActions: [], current: true, details: { lockoutUntil: '2026-11-25T15:05:00.000Z' } });
    expect(planFix(nativeHost(), locked).steps).toEqual([]);
  });

  it('rate limit, insecure context, origin, URL mismatch, telegram: user actions only', () => {
    for (const cause of ['rate_limited', 'insecure_context', 'origin_not_allowed', 'gateway_url_mismatch', 'telegram_conflict', 'proxy_blocks_websocket', 'device_token_mismatch'] as const) {
      const p = planFix(nativeHost(), verdictOf(cause, { userActions: ['do the thing'] }));
      expect(p.steps, cause).toEqual([]);
      expect(p.userActions.length, cause).toBeGreaterThan(0);
    }
  });
});

describe('planFix: gateway down / crash loop per supervisor', () => {
  it('systemd: stop → doctor --fix → start → wait (doctor refuses while a gateway runs)', () => {
    const p = planFix(nativeHost(), v(nativeHost(), down, '2026-11-25T15:20:00Z'));
    expect(p.cause).toBe('gateway_down');
    expect(kinds(p)).toEqual(['stop_gateway', 'doctor_fix', 'start_gateway', 'wait_for_gateway']);
    expect(p.steps[0]!.continueOnError).toBe(true);
    expect(p.steps[1]!.script).toContain('openclaw doctor --fix </dev/null');
    expect(p.steps[2]!.script).toContain('systemctl --user start -- openclaw-gateway.service');
    expect(p.steps.every((s) => !s.script.includes('gateway restart'))).toBe(true);
  });

  it('docker: docker stop → doctor --fix in a one-off container of the same image and volumes → docker start → wait', () => {
    const p = planFix(dockerHost(), verdictOf('crash_loop', {}, false));
    expect(kinds(p)).toEqual(['stop_gateway', 'container_doctor_fix', 'start_gateway', 'wait_for_gateway']);
    expect(p.steps[0]!.script).toBe('{ docker stop -- openclaw; } 2>&1');
    const doctor = p.steps[1]!.script;
    expect(doctor).toContain("docker inspect -f '{{.Image}}' -- openclaw");
    expect(doctor).toMatch(/docker run -d .*--volumes-from openclaw --env-file "\$_cm_envf" "\$@" --entrypoint \/bin\/sh "\$_cm_img" -c /);
    expect(doctor).toContain('openclaw doctor --fix');
    expect(doctor).not.toContain('docker exec');
    expect(p.steps[2]!.script).toBe('{ docker start -- openclaw; } 2>&1');
    expect(p.steps[3]!.script).toContain('docker exec -- openclaw openclaw gateway status --json');
    // Without a usable doctor: stop + start.
    const noDoctor = planFix(dockerHost(), verdictOf('gateway_down', { details: { doctorUnavailable: 'no npm' } }, false));
    expect(kinds(noDoctor)).toEqual(['stop_gateway', 'start_gateway', 'wait_for_gateway']);
  });

  it('docker: a broken plugin is disabled in a one-off container while the gateway container is stopped', () => {
    const p = planFix(dockerHost(), verdictOf('plugin_failure', { details: { pluginIds: ['broken-fixture', 'other'] } }));
    expect(kinds(p)).toEqual(['stop_gateway', 'container_disable_plugin', 'container_disable_plugin', 'start_gateway', 'wait_for_gateway']);
    expect(p.steps[1]!.params).toEqual({ pluginId: 'broken-fixture' });
    expect(p.steps[1]!.script).toContain('sh openclaw plugins disable broken-fixture');
    expect(p.steps[2]!.script).toContain('sh openclaw plugins disable other');
  });

  it('docker: gateway.mode unset with the container down is set in a one-off container', () => {
    const p = planFix(dockerHost(), verdictOf('gateway_mode_unset', {}, false));
    expect(kinds(p)).toEqual(['stop_gateway', 'container_set_gateway_mode_local', 'start_gateway', 'wait_for_gateway']);
    expect(kinds(planFix(dockerHost(), verdictOf('gateway_mode_unset', {}, true)))).toEqual(['set_gateway_mode_local']);
  });

  it('commands: the inventory stop/start strings', () => {
    const p = planFix(commandsHost(), verdictOf('gateway_down', {}, false));
    expect(kinds(p)).toEqual(['stop_gateway', 'doctor_fix', 'start_gateway', 'wait_for_gateway']);
    expect(p.steps[0]!.script).toBe('{ ( openclaw gateway stop --force ); } 2>&1');
    expect(p.steps[2]!.script).toBe('{ ( nohup openclaw gateway run >/dev/null 2>&1 & ); } 2>&1');
  });

  it('restart steps never trust their exit code; wait_for_gateway decides', () => {
    const p = planFix(dockerHost(), verdictOf('out_of_memory', {}, false));
    expect(p.steps[0]).toMatchObject({ kind: 'restart_gateway', continueOnError: true });
    expect(p.steps[p.steps.length - 1]!.kind).toBe('wait_for_gateway');
    expect(p.userActions.join(' ')).toMatch(/RAM/);
  });
});

describe('planFix: plugins, port, mode', () => {
  it('plugin_failure: disable the named plugin, restart, verify', () => {
    const verdict = v(nativeHost(), { health: fx('health-plugin-load-failed.json'), log: fx('log-plugin-load-failed.jsonl') }, '2026-11-25T15:26:00Z');
    const p = planFix(nativeHost(), verdict);
    expect(kinds(p)).toEqual(['disable_plugin', 'restart_gateway', 'wait_for_gateway']);
    expect(p.steps[0]!.script).toContain('openclaw plugins disable broken-fixture');
  });

  it('plugin runtime deps missing (2026.4): doctor --fix with the gateway stopped, not disabling', () => {
    const h4 = nativeHost({ gateway: { port: 18790 } });
    const verdict = v(h4, { status: fx('2026.4/gateway-status-up.json'), ss: fx('derived/ss-gateway-2026.4.txt'), log: fx('2026.4/log-gateway-start.stdout.txt') }, '2026-11-25T15:30:00Z');
    // 2026.4 without npm: doctor --fix fails the same way ("Unable to resolve a safe npm executable"): not offered.
    const p = planFix(h4, verdict);
    expect(kinds(p)).toEqual([]);
    expect(p.userActions.join(' ')).toMatch(/safe npm executable/);
    expect(p.userActions.join(' ')).toMatch(/npm beside its .node. binary/);
    expect(verdict.findings[0]!.details?.doctorUnavailable).toMatch(/safe npm executable/);
  });

  it('plugin runtime deps missing where doctor can work: doctor --fix with the gateway stopped, not disabling', () => {
    const verdict = v(nativeHost(), { health: fx('health-plugin-load-failed.json') }, '2026-11-25T15:30:00Z');
    verdict.findings[0]!.details = { pluginIds: ['broken'], pluginDepsMissing: true };
    expect(kinds(planFix(nativeHost(), verdict))).toEqual(['stop_gateway', 'doctor_fix', 'start_gateway', 'wait_for_gateway']);
  });

  it('port_conflict: kill the owner only when the inventory allows it', () => {
    const parts = { status: fx('gateway-status-port-conflict.json'), ss: fx('derived/ss-python-port-conflict.txt'), log: fx('log-port-conflict.jsonl'), health: 'x', healthRc: 1 };
    const denied = planFix(nativeHost(), v(nativeHost(), parts, '2026-11-25T15:10:00Z'));
    expect(denied.steps).toEqual([]);
    expect(denied.userActions.join(' ')).toMatch(/python3 \(pid 26892\)/);
    const allowedHost = nativeHost({ allowKillPortOwner: true });
    const allowed = planFix(allowedHost, v(allowedHost, parts, '2026-11-25T15:10:00Z'));
    expect(kinds(allowed)).toEqual(['kill_port_owner', 'start_gateway', 'wait_for_gateway']);
    expect(allowed.steps[0]!.script).toContain('pid=26892,');
  });

  it('gateway_mode_unset: config set gateway.mode local, then start', () => {
    const verdict = v(nativeHost(), { ...down, config: fx('derived/config-facts-mode-unset.txt'), log: fx('derived/log-mode-blocked.stdout.txt') }, '2026-11-25T15:25:00Z');
    const p = planFix(nativeHost(), verdict);
    expect(kinds(p)).toEqual(['set_gateway_mode_local', 'start_gateway', 'wait_for_gateway']);
    expect(p.steps[0]!.script).toContain('openclaw config set gateway.mode local');
  });

  it('healthy / unknown: nothing to do', () => {
    expect(planFix(nativeHost(), verdictOf('healthy')).steps).toEqual([]);
    expect(planFix(nativeHost(), verdictOf('unknown')).steps).toEqual([]);
  });
});

describe('verifyFix', () => {
  it('fixed when the cause is gone and the probe answers', () => {
    expect(verifyFix(verdictOf('gateway_down', {}, false), verdictOf('healthy')).fixed).toBe(true);
  });
  it('not fixed while the cause persists (restart does not cure a stale tab)', () => {
    const r = verifyFix(verdictOf('stale_client'), verdictOf('stale_client'));
    // The gateway answers; what still fails is the user's tab: action needed on their side, named.
    expect(r).toMatchObject({ fixed: false, status: 'user_action_needed' });
    expect(r.action).toBeTruthy();
    const host = verifyFix(verdictOf('plugin_failure'), verdictOf('plugin_failure'));
    expect(host).toMatchObject({ fixed: false, status: 'not_fixed' });
    expect(host.reason).toMatch(/still seeing plugin_failure/);
  });
  it('not fixed when the gateway still does not answer', () => {
    expect(verifyFix(verdictOf('port_conflict', {}, false), verdictOf('unknown', {}, false)).fixed).toBe(false);
  });
  it('reports a new headline cause', () => {
    const r = verifyFix(verdictOf('gateway_down', {}, false), verdictOf('plugin_failure', { weight: 60 }));
    expect(r.fixed).toBe(true);
    expect(r.reason).toMatch(/now: plugin_failure/);
  });
});

describe('parseDashboardUrl', () => {
  it('reads the tokenized url of `openclaw dashboard --json --no-open`', () => {
    // Sample: dashboard.json (token redacted in the sample)
    expect(parseDashboardUrl(fx('dashboard.json'))).toBe('http://127.0.0.1:18789/#token=<redacted>');
    expect(parseDashboardUrl('{"ok":false,"error":"x"}')).toBeNull();
    expect(parseDashboardUrl('{"ok":true,"url":"javascript:alert(1)"}')).toBeNull();
    expect(parseDashboardUrl('Gateway not reachable')).toBeNull();
  });
});

describe('a synthetic combo plans for its headline only', () => {
  it('token mismatch (medium) + plugin failure (high, current) → the plugin fix, not the link', () => {
    const verdict = v(nativeHost(), { log: fxLines('log-plugin-load-failed.jsonl', 'log-wrong-token.jsonl', 'log-stale-tab-loop.jsonl'), health: fx('health-plugin-load-failed.json') }, '2026-11-25T15:06:40Z');
    expect(kinds(planFix(nativeHost(), verdict))).toEqual(['disable_plugin', 'restart_gateway', 'wait_for_gateway']);
  });
});

describe('verifyHolds: a verify window ends as soon as verification holds', () => {
  const quiet = { clientMs: 20_000, otherMs: 10_000 };
  const healthy = (connects?: number): Verdict => ({ ...verdictOf('healthy'), ...(connects ? { clientConnects: connects } : {}) });

  it('a client cause ends at once when a client got through since the fix', () => {
    const before = verdictOf('stale_client');
    const after = healthy(1);
    expect(verifyHolds(before, after, verifyFix(before, after), 2_000, quiet)).toBe(true);
  });

  it('a client cause with no client back waits for the quiet time (longer than the UI backoff cap)', () => {
    const before = verdictOf('stale_client');
    const after = healthy();
    const check = verifyFix(before, after);
    expect(verifyHolds(before, after, check, 14_000, quiet)).toBe(false);
    expect(verifyHolds(before, after, check, 20_000, quiet)).toBe(true);
  });

  it('a restart cause ends once the probe answers and nothing failed for the shorter quiet time', () => {
    const before = verdictOf('gateway_down', {}, false);
    const after = healthy();
    const check = verifyFix(before, after);
    expect(verifyHolds(before, after, check, 5_000, quiet)).toBe(false);
    expect(verifyHolds(before, after, check, 10_000, quiet)).toBe(true);
  });

  it('never while the cause still fails or the probe does not answer, whatever the time or connects', () => {
    const before = verdictOf('stale_client');
    const still = { ...verdictOf('stale_client'), clientConnects: 3 };
    expect(verifyHolds(before, still, verifyFix(before, still), 60_000, quiet)).toBe(false);
    const down = verdictOf('gateway_down', {}, false);
    const stillDown = verdictOf('gateway_down', {}, false);
    expect(verifyHolds(down, stillDown, verifyFix(down, stillDown), 60_000, quiet)).toBe(false);
  });
});

describe('the wait for a (re)started gateway', () => {
  const waitOf = (p: { steps: { kind: string; description: string }[] }) => p.steps.find((s) => s.kind === 'wait_for_gateway')!.description;

  it('defaults to fix.startWaitSec, twice that on docker installs', () => {
    expect(startWaitSecFor(nativeHost())).toBe(DEFAULTS.startWaitSec);
    expect(startWaitSecFor(dockerHost())).toBe(2 * DEFAULTS.startWaitSec);
    expect(waitOf(planFix(nativeHost(), verdictOf('gateway_down', {}, false)))).toContain(`up to ${DEFAULTS.startWaitSec} s`);
    expect(waitOf(planFix(dockerHost(), verdictOf('gateway_down', {}, false)))).toContain(`up to ${2 * DEFAULTS.startWaitSec} s`);
  });

  it('a configured wait keeps the docker doubling (it used to replace it: docker hosts got the native wait)', () => {
    expect(startWaitSecFor(nativeHost(), 50)).toBe(50);
    expect(startWaitSecFor(dockerHost(), 50)).toBe(100);
    expect(waitOf(buildBringBackPlan(dockerHost(), { waitSec: 50 }))).toContain('up to 100 s');
    expect(waitOf(buildBringBackPlan(nativeHost(), { waitSec: 50 }))).toContain('up to 50 s');
  });
});
