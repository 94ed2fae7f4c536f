import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../../src/domain/diagnosis.js';
import { diagnose, PLUGIN_DEPS_EVIDENCE, TOKEN_OVERRIDE_EVIDENCE } from '../../../src/openclaw/diagnose.js';
import { parseEvidence } from '../../../src/openclaw/evidence.js';
import { planFix, verifyFix } from '../../../src/openclaw/plan.js';
import { shiftTimestamps } from '../../support/host-standin/index.js';
import { dockerHost, evidenceOutput, fx, fxLines, nativeHost } from './helpers.js';

type Parts = Parameters<typeof evidenceOutput>[0];
const host = nativeHost();

function verdict(parts: Parts, now: string, h = host): Verdict {
  return diagnose(h, parseEvidence(evidenceOutput(parts)), new Date(now));
}
function head(v: Verdict) {
  return v.findings[0]!;
}
function causes(v: Verdict): string[] {
  return v.findings.map((f) => f.cause);
}
const joined = (v: Verdict) => head(v).evidence.join('\n');

/** The text form of `gateway status` recovered from the real file log of the port-conflict minute. */
function portConflictStatusText(): string {
  return fx('log-port-conflict.jsonl')
    .split('\n')
    .slice(0, 23)
    .map((l) => (l ? (JSON.parse(l) as { message: string }).message : ''))
    .join('\n');
}

describe('diagnose: healthy and noise', () => {
  it('healthy: probe ok, our listener, a normal start in the log', () => {
    // Samples: gateway-status-up.json, health-healthy.json, log-crash-restart.jsonl (start lines)
    const v = verdict({ log: fx('log-crash-restart.jsonl') }, '2026-11-25T15:20:00Z');
    expect(causes(v)).toEqual(['healthy']);
    expect(head(v).confidence).toBe('high');
    expect(v.probeOk).toBe(true);
    expect(v.openclawVersion).toBe('2026.9.6');
    expect(joined(v)).toContain('openclaw-gatewa (pid 21774)');
  });

  it('CLI probe 1008s, 1013 at startup and internal channel checks stay healthy', () => {
    const log = fxLines('log-host-cli-probe-wrong-token.stdout.txt', 'derived/log-gateway-starting-1013.stdout.txt', 'derived/log-internal-token-mismatch.stdout.txt');
    const v = verdict({ log }, '2026-11-25T15:05:00Z');
    expect(causes(v)).toEqual(['healthy']);
    expect(joined(v)).toMatch(/ignored 3 benign rejection/);
  });

  it('unknown when the gateway status cannot be read', () => {
    const v = verdict({ status: 'sh: 1: openclaw: not found', log: '' }, '2026-11-25T15:20:00Z');
    expect(head(v).cause).toBe('unknown');
    expect(v.gaps.some((g) => g.startsWith('gateway_status'))).toBe(true);
  });
});

describe('diagnose: token causes', () => {
  it('token_mismatch: two distinct browser clients fail with token_mismatch', () => {
    // Samples concatenated: log-wrong-token.jsonl (Origin 127.0.0.1) + log-stale-tab-loop.jsonl (Origin localhost)
    const v = verdict({ log: fxLines('log-wrong-token.jsonl', 'log-stale-tab-loop.jsonl') }, '2026-11-25T15:06:40Z');
    expect(head(v).cause).toBe('token_mismatch');
    expect(head(v).confidence).toBe('medium');
    expect(head(v).summary).toMatch(/^2 client\(s\)/);
    expect(joined(v)).toContain('http://127.0.0.1:18789');
    expect(joined(v)).toContain('http://localhost:18789');
    expect(joined(v)).toMatch(/code=4008 \(connect failed\).*gateway: token_mismatch/);
    expect(head(v).userActions.join(' ')).toMatch(/fresh dashboard link/);
  });

  it("token_mismatch: the host's own probe is rejected (no client lines)", () => {
    // Sample: gateway-status-token-mismatch.json
    const v = verdict({ status: fx('gateway-status-token-mismatch.json') }, '2026-11-25T15:20:00Z');
    expect(head(v).cause).toBe('token_mismatch');
    expect(joined(v)).toContain('AUTH_TOKEN_MISMATCH');
    expect(v.probeOk).toBe(false);
  });

  it('token_mismatch with a stale --token in ExecStart: reports the override, never the token', () => {
    // Samples: gateway-status-token-mismatch.json, log-wrong-token.jsonl; derived systemd show (value redacted on the host)
    const service = fx('derived/systemd-show-token-override.txt');
    const v = verdict({ status: fx('gateway-status-token-mismatch.json'), service, log: fx('log-wrong-token.jsonl') }, '2026-11-25T15:02:00Z');
    expect(head(v).cause).toBe('token_mismatch');
    expect(head(v).confidence).toBe('high');
    expect(head(v).evidence[0]).toMatch(new RegExp(`^${TOKEN_OVERRIDE_EVIDENCE}`));
    // Even if a raw token slipped through, evidence is redacted.
    const raw = service.replace('--token <redacted>', '--token s3cr3t-token-value');
    const v2 = verdict({ status: fx('gateway-status-token-mismatch.json'), service: raw, log: fx('log-wrong-token.jsonl') }, '2026-11-25T15:02:00Z');
    expect(JSON.stringify(v2)).not.toContain('s3cr3t-token-value');
  });

  it('stale_client: one tab loops, the host probe is fine — no restart needed', () => {
    // Sample: log-stale-tab-loop.jsonl
    const v = verdict({ log: fx('log-stale-tab-loop.jsonl') }, '2026-11-25T15:06:40Z');
    expect(head(v).cause).toBe('stale_client');
    expect(head(v).confidence).toBe('high');
    expect(head(v).summary).toMatch(/http:\/\/localhost:18789/);
    expect(head(v).summary).toMatch(/14 failures, every ~15 s/);
    expect(joined(v)).toMatch(/stale tab loop/);
    expect(joined(v)).toMatch(/host probe: ok/);
  });

  it('stale_client seen long ago is low confidence', () => {
    const v = verdict({ log: fx('log-stale-tab-loop.jsonl') }, '2026-11-25T15:26:40Z');
    expect(head(v).cause).toBe('stale_client');
    expect(head(v).confidence).toBe('low');
    expect(head(v).weight).toBeLessThan(50);
    expect(head(v).summary).toMatch(/last seen 20 min ago/);
  });

  it('token_rotated: 4001 gateway auth changed, then 4008s', () => {
    // Sample: log-token-rotated-while-connected.jsonl
    const v = verdict({ log: fx('log-token-rotated-while-connected.jsonl') }, '2026-11-25T15:03:30Z');
    expect(head(v).cause).toBe('token_rotated');
    expect(head(v).confidence).toBe('high');
    expect(head(v).summary).toMatch(/rotated at 15:03:05/);
    expect(joined(v)).toMatch(/1 connection\(s\) closed with 4001/);
  });

  it('config_autorestored: auto-restore from backup, then every client fails', () => {
    // Real lines, times moved after the restore (log-mode-unset-autorestored.jsonl + log-wrong-token.jsonl + stale tab)
    const restore = Date.parse('2026-11-25T15:23:03.210Z');
    // Each client's lines moved to after the restore (what fails before it is another phase now).
    const wrong = shiftTimestamps(fx('log-wrong-token.jsonl').split('\n'), restore + 20_000);
    const tab = shiftTimestamps(fx('log-stale-tab-loop.jsonl').split('\n'), restore + 140_000);
    const v = verdict({ log: `${fx('log-mode-unset-autorestored.jsonl')}${[...wrong, ...tab].join('\n')}` }, new Date(restore + 150_000).toISOString());
    expect(head(v).cause).toBe('config_autorestored');
    expect(head(v).summary).toMatch(/gateway-mode-missing-vs-last-good/);
    expect(head(v).summary).toMatch(/2 client\(s\)/);
  });

  it('config_autorestored seen only from the .clobbered copy (2026.4.29 prints its restore line to stdout only)', () => {
    // The restore line removed from the real log: what a 2026.4 host's file log holds. The copy's
    // name carries the time (openclaw.json.clobbered.<time>); the gateway started ~2 s after it.
    const log = fx('log-mode-unset-autorestored.jsonl').split('\n').filter((l) => !/Config auto-restored/.test(l)).join('\n');
    const restore = Date.parse('2026-11-25T15:23:03.210Z');
    const wrong = shiftTimestamps(fx('log-wrong-token.jsonl').split('\n'), restore + 20_000);
    const tab = shiftTimestamps(fx('log-stale-tab-loop.jsonl').split('\n'), restore + 140_000);
    const config = `${fx('derived/config-facts-ok.txt').trim()}\nclobbered=2026-11-20T10-00-00-000Z,2026-11-25T15-23-02-900Z\n`;
    const now = new Date(restore + 150_000).toISOString();
    const v = verdict({ log: `${log}\n${[...wrong, ...tab].join('\n')}`, config }, now);
    expect(head(v).cause).toBe('config_autorestored');
    expect(head(v).summary).toMatch(/openclaw\.json\.clobbered copy/);
    expect(head(v).summary).toMatch(/2 client\(s\)/);
    // Without the copy the same log is a plain token mismatch of two clients: the copy is what tells.
    const without = verdict({ log: `${log}\n${[...wrong, ...tab].join('\n')}` }, now);
    expect(head(without).cause).not.toBe('config_autorestored');
  });

  it('device_token_mismatch (derived from the wrong-token lines)', () => {
    const v = verdict({ log: fx('derived/log-device-token-mismatch.stdout.txt') }, '2026-11-25T15:02:00Z');
    expect(head(v).cause).toBe('device_token_mismatch');
    expect(joined(v)).toMatch(/device_token_mismatch/);
    // No `device token rotated` line in this log: no empty evidence line stands for it.
    expect(head(v).evidence.length).toBeGreaterThan(0);
    expect(head(v).evidence.every((line) => line.trim() !== '')).toBe(true);
  });

  it('rate_limited leads, with the looping client behind it', () => {
    // Sample: log-rate-limited.jsonl
    const v = verdict({ log: fx('log-rate-limited.jsonl') }, '2026-11-25T15:02:00Z');
    expect(causes(v).slice(0, 2)).toEqual(['rate_limited', 'stale_client']);
    expect(head(v).summary).toMatch(/locked out since 15:01:\d\d until 15:0[67]:\d\d UTC/);
    expect(head(v).summary).toMatch(/even the right token is refused/);
    expect(head(v).details?.origin).toBe('http://127.0.0.1:18789');
    expect(joined(v)).toMatch(/rate_limited/);
  });

  it('2026.4: reason joined from the unauthorized line (stdout has no authReason)', () => {
    const h4 = nativeHost({ gateway: { port: 18790 } });
    const v = verdict(
      { status: fx('2026.4/gateway-status-up.json'), ss: fx('derived/ss-gateway-2026.4.txt'), log: fx('2026.4/log-wrong-token.stdout.txt') },
      '2026-11-25T15:30:30Z',
      h4,
    );
    expect(head(v).cause).toBe('stale_client');
    expect(joined(v)).toMatch(/gateway: token_mismatch/);
  });
});

describe('diagnose: browser-side refusals', () => {
  it('insecure_context (derived: cause=control-ui-insecure-auth)', () => {
    const v = verdict({ log: fx('derived/log-insecure-context.stdout.txt') }, '2026-11-25T15:02:00Z');
    expect(head(v).cause).toBe('insecure_context');
    expect(head(v).summary).toMatch(/http:\/\/192\.168\.1\.20:18789/);
  });

  it('origin_not_allowed (derived: cause=origin-mismatch)', () => {
    const v = verdict({ log: fx('derived/log-origin-not-allowed.stdout.txt') }, '2026-11-25T15:02:00Z');
    expect(head(v).cause).toBe('origin_not_allowed');
    expect(head(v).summary).toMatch(/https:\/\/claw\.example\.com/);
  });
});

describe('diagnose: gateway down, crashes, memory', () => {
  const down = { status: fx('gateway-status-down.json'), ss: fx('derived/ss-nothing.txt'), health: 'Gateway not reachable', healthRc: 1 };

  it('gateway_down after a crash: the log ends without a clean shutdown', () => {
    // Samples: gateway-status-after-crash.json, first 2 lines of log-crash-restart.jsonl (written before kill -9)
    const log = fx('log-crash-restart.jsonl').split('\n').slice(30, 46).concat(fx('log-crash-restart.jsonl').split('\n').slice(0, 2)).join('\n');
    const v = verdict({ ...down, status: fx('gateway-status-after-crash.json'), log }, '2026-11-25T15:10:00Z');
    expect(head(v).cause).toBe('gateway_down');
    expect(head(v).confidence).toBe('high');
    expect(head(v).summary).toMatch(/crashed or was killed/);
    expect(joined(v)).toMatch(/ECONNREFUSED/);
    expect(v.gaps).toEqual([]); // health failing while the probe fails is no extra blind spot
  });

  it('gateway_down after a clean stop', () => {
    const log = fxLines('log-crash-restart.stdout.txt', 'derived/log-sigterm.stdout.txt');
    const v = verdict({ ...down, log }, '2026-11-25T15:20:00Z');
    expect(head(v).cause).toBe('gateway_down');
    expect(head(v).summary).toMatch(/stopped cleanly/);
  });

  it('crash_loop: systemd NRestarts climbing', () => {
    const v = verdict({ ...down, service: fx('derived/systemd-show-crash-loop.txt') }, '2026-11-25T15:20:00Z');
    expect(head(v).cause).toBe('crash_loop');
    expect(joined(v)).toMatch(/NRestarts=5/);
  });

  it('crash_loop from the log alone: repeated starts without clean shutdowns', () => {
    const start = fx('log-crash-restart.jsonl').split('\n').slice(30, 46);
    const blocks = [0, 1, 2, 3].map((i) => shiftTimestamps(start, Date.parse('2026-11-25T15:10:00Z') + i * 60_000));
    const v = verdict({ ...down, log: blocks.flat().join('\n') }, '2026-11-25T15:15:00Z');
    expect(head(v).cause).toBe('crash_loop');
    expect(joined(v)).toMatch(/3 starts without a clean shutdown/);
  });

  it('out_of_memory: kernel OOM kill, systemd oom-kill, RAM > 90 %', () => {
    // Derived: kernel-oom-journal.txt (pid/process from log-oom-cgroup-350m.txt), systemd-show-oom.txt, free-2g-pressure.txt
    const v = verdict(
      { ...down, kernel: fx('derived/kernel-oom-journal.txt'), service: fx('derived/systemd-show-oom.txt'), free: fx('derived/free-2g-pressure.txt'), log: fx('log-oom-cgroup-350m.txt') },
      '2026-11-25T15:30:00Z',
    );
    expect(causes(v).slice(0, 2)).toEqual(['out_of_memory', 'gateway_down']);
    expect(head(v).weight).toBeGreaterThan(v.findings[1]!.weight);
    expect(joined(v)).toMatch(/Killed process 28963 \(openclaw-gatewa\)/);
    expect(joined(v)).toMatch(/memory: 94\.\d% used/);
    expect(causes(v)).not.toContain('memory_pressure');
  });

  it('out_of_memory (heap): FATAL ERROR … JavaScript heap out of memory', () => {
    // Sample: log-oom-heap-limit-128m.txt
    const v = verdict({ ...down, log: fx('log-oom-heap-limit-128m.txt') }, '2026-11-25T15:27:30Z');
    expect(head(v).cause).toBe('out_of_memory');
    expect(head(v).summary).toMatch(/JavaScript heap/);
  });

  it('an old kernel OOM line does not count once `since` has passed it', () => {
    const ev = parseEvidence(evidenceOutput({ kernel: fx('derived/kernel-oom-journal.txt') }));
    const before = diagnose(host, ev, new Date('2026-11-25T15:30:00Z'));
    expect(causes(before)).toContain('out_of_memory');
    const after = diagnose(host, ev, new Date('2026-11-25T15:30:00Z'), { since: new Date('2026-11-25T15:28:00Z') });
    expect(causes(after)).toEqual(['healthy']);
  });

  it('memory_pressure without an OOM kill', () => {
    const v = verdict({ free: fx('derived/free-2g-pressure.txt') }, '2026-11-25T15:30:00Z');
    expect(head(v).cause).toBe('memory_pressure');
    expect(head(v).confidence).toBe('high');
  });
});

describe('diagnose: plugins, port, second gateway, mode, URL, telegram', () => {
  it('plugin_failure: health plugins.errors + the log lines', () => {
    // Samples: health-plugin-load-failed.json, log-plugin-load-failed.jsonl
    const v = verdict({ health: fx('health-plugin-load-failed.json'), log: fx('log-plugin-load-failed.jsonl') }, '2026-11-25T15:26:00Z');
    expect(head(v).cause).toBe('plugin_failure');
    expect(head(v).confidence).toBe('high');
    expect(head(v).evidence[0]).toBe('plugin broken-fixture failed: Error: broken-fixture: intentional load failure');
  });

  it('plugin_failure on 2026.4: runtime deps missing (unfinished update)', () => {
    const h4 = nativeHost({ gateway: { port: 18790 } });
    const v = verdict(
      { status: fx('2026.4/gateway-status-up.json'), ss: fx('derived/ss-gateway-2026.4.txt'), log: fx('2026.4/log-gateway-start.stdout.txt') },
      '2026-11-25T15:30:00Z',
      h4,
    );
    expect(head(v).cause).toBe('plugin_failure');
    expect(head(v).summary).toMatch(/8 plugin\(s\).*runtime dependencies/);
    expect(head(v).evidence.some((l) => l.startsWith(PLUGIN_DEPS_EVIDENCE))).toBe(true);
  });

  it('plugin_failure on 2026.4: a user plugin that throws beside bundled plugins without deps → only the broken one is disabled, and its fix is verified', () => {
    // Real 2026.4.29 start (8 bundled plugins without runtime deps, no npm beside its Node), then the
    // real load failure of a local plugin (2026.9.6 sample lines, same shape on 2026.4.29) after it.
    const h4 = nativeHost({ gateway: { port: 18790 } });
    const log = [fx('2026.4/log-gateway-start.stdout.txt').trimEnd(), ...fx('log-plugin-load-failed.stdout.txt').split('\n').slice(7, 9).map((l) => l.replace('2026-11-25T15:25:2', '2026-11-25T15:29:5'))].join('\n');
    const v = verdict({ status: fx('2026.4/gateway-status-up.json'), ss: fx('derived/ss-gateway-2026.4.txt'), log }, '2026-11-25T15:30:00Z', h4);
    expect(head(v).cause).toBe('plugin_failure');
    expect(head(v).details?.pluginIds).toEqual(['broken-fixture']);
    expect(head(v).details?.pluginDepsMissing).toBeUndefined();
    expect(head(v).summary).toMatch(/^1 plugin\(s\) failed to load: broken-fixture; 8 more lack their runtime dependencies: acpx/);
    const plan = planFix(h4, v);
    expect(plan.steps.filter((s) => s.kind === 'disable_plugin').map((s) => s.params)).toEqual([{ pluginId: 'broken-fixture' }]);
    // After the fix the bundled plugins still lack their deps: the fix of broken-fixture holds.
    const after = verdict({ status: fx('2026.4/gateway-status-up.json'), ss: fx('derived/ss-gateway-2026.4.txt'), log: fx('2026.4/log-gateway-start.stdout.txt') }, '2026-11-25T15:30:00Z', h4);
    expect(after.findings[0]!.details?.pluginDepsMissing).toBe(true);
    expect(verifyFix(v, after).fixed).toBe(true);
    expect(verifyFix(v, v).fixed).toBe(false);
  });

  it('port_conflict: python3 holds the port, the probe gets HTTP 200', () => {
    // Samples: gateway-status-port-conflict.json, log-port-conflict.jsonl; derived ss line
    const v = verdict(
      { status: fx('gateway-status-port-conflict.json'), ss: fx('derived/ss-python-port-conflict.txt'), log: fx('log-port-conflict.jsonl'), healthRc: 1, health: 'x' },
      '2026-11-25T15:10:00Z',
    );
    expect(head(v).cause).toBe('port_conflict');
    expect(head(v).confidence).toBe('high');
    expect(head(v).evidence[0]).toMatch(/^port 18789 owner: python3 \(pid 26892\)/);
    expect(joined(v)).toMatch(/rejected websocket upgrade \(HTTP 200\)/);
    expect(causes(v)).not.toContain('gateway_down');
  });

  it('port_conflict with an owner the SSH user cannot see (status text from the real file log)', () => {
    const v = verdict(
      { status: 'x', statusText: portConflictStatusText(), ss: fx('derived/ss-owner-hidden.txt'), log: fx('log-port-conflict.txt'), healthRc: 1, health: 'x' },
      '2026-11-25T15:10:00Z',
    );
    expect(head(v).cause).toBe('port_conflict');
    expect(head(v).confidence).toBe('medium');
    expect(joined(v)).toMatch(/not visible to the SSH user/);
    expect(head(v).userActions.join(' ')).toMatch(/sudo ss -tlnp/);
  });

  it("docker: docker-proxy on the published port is the gateway, not a conflict", () => {
    const ss = fx('derived/ss-python-port-conflict.txt').replace('"python3",pid=26892', '"docker-proxy",pid=1200');
    const status = 'Error response from daemon: container 0123 is not running';
    const service = fx('derived/docker-inspect-running.txt').replace('Status=running Running=true', 'Status=exited Running=false');
    const v = verdict({ status, ss, service, health: status, healthRc: 1 }, '2026-11-25T15:10:00Z', dockerHost());
    expect(head(v).cause).toBe('gateway_down');
    expect(causes(v)).not.toContain('port_conflict');
    const native = verdict({ status: fx('gateway-status-down.json'), ss, health: 'x', healthRc: 1 }, '2026-11-25T15:10:00Z');
    expect(head(native).cause).toBe('port_conflict');
  });

  it('second_gateway: a second gateway run hit the state lock', () => {
    // Sample: log-second-gateway-run.jsonl
    const v = verdict({ log: fx('log-second-gateway-run.jsonl') }, '2026-11-25T15:10:00Z');
    expect(head(v).cause).toBe('second_gateway');
    expect(joined(v)).toMatch(/StateDatabaseCoordinatorContentionError/);
  });

  it('gateway_mode_unset: down, config without gateway.mode, start blocked', () => {
    const v = verdict(
      { ...{ status: fx('gateway-status-down.json'), ss: fx('derived/ss-nothing.txt') }, config: fx('derived/config-facts-mode-unset.txt'), log: fx('derived/log-mode-blocked.stdout.txt') },
      '2026-11-25T15:25:00Z',
    );
    expect(causes(v).slice(0, 2)).toEqual(['gateway_mode_unset', 'gateway_down']);
    expect(head(v).confidence).toBe('high');
  });

  it('gateway_mode_unset on 2026.4.29: the blocked start left only its first lines in the file log', () => {
    // 2026.4 prints "Gateway start blocked" to stdout only: the file log ends at `loading configuration…`.
    const log = fx('derived/log-mode-blocked.stdout.txt').split('\n').filter((l) => !/start blocked/i.test(l)).join('\n');
    const v = verdict({ ...{ status: fx('gateway-status-down.json'), ss: fx('derived/ss-nothing.txt') }, config: fx('derived/config-facts-mode-unset.txt'), log }, '2026-11-25T15:25:00Z');
    expect(causes(v).slice(0, 2)).toEqual(['gateway_mode_unset', 'gateway_down']);
    expect(head(v).confidence).toBe('high');
    expect(joined(v)).toMatch(/the start never got ready/);
  });

  it('gateway.mode missing while the gateway runs: a low-weight warning', () => {
    const v = verdict({ config: fx('derived/config-facts-mode-unset.txt') }, '2026-11-25T15:25:00Z');
    expect(head(v).cause).toBe('gateway_mode_unset');
    expect(head(v).weight).toBeLessThan(50);
    expect(head(v).summary).toMatch(/auto-restore/);
  });

  it('gateway_url_mismatch: GATEWAY_URL in the .env differs from the inventory URL', () => {
    const h = nativeHost({ gateway: { port: 18789, url: 'wss://claw.example.com' }, envFile: '~/openclaw/.env' });
    const v = verdict({ env: 'GATEWAY_URL=http://10.0.0.5:18789' }, '2026-11-25T15:25:00Z', h);
    expect(head(v).cause).toBe('gateway_url_mismatch');
    expect(joined(v)).toMatch(/GATEWAY_URL in ~\/openclaw\/.env is http:\/\/10\.0\.0\.5:18789/);
    const same = verdict({ env: 'export GATEWAY_URL="https://claw.example.com/"' }, '2026-11-25T15:25:00Z', h);
    expect(causes(same)).toEqual(['healthy']);
  });

  it('gateway_url_mismatch: Config (cli) differs from Config (service)', () => {
    const status = fx('gateway-status-up.json').replace(
      '"daemon": {\n      "path": "/home/claw/.openclaw/openclaw.json"',
      '"daemon": {\n      "path": "/home/claw/.openclaw-work/openclaw.json"',
    );
    const v = verdict({ status }, '2026-11-25T15:25:00Z');
    expect(head(v).cause).toBe('gateway_url_mismatch');
    expect(joined(v)).toMatch(/different profiles/);
  });

  it('telegram_conflict (derived 409 line)', () => {
    const v = verdict({ log: fx('derived/log-telegram-409.stdout.txt') }, '2026-11-25T15:20:00Z');
    expect(head(v).cause).toBe('telegram_conflict');
  });

  it('several causes at once: current first, then confidence, then weight', () => {
    // The plugin failure (high: the health RPC reports it) outranks a medium two-client token mismatch.
    const log = fxLines('log-plugin-load-failed.jsonl', 'log-wrong-token.jsonl', 'log-stale-tab-loop.jsonl');
    const v = verdict({ log, health: fx('health-plugin-load-failed.json'), free: fx('derived/free-2g-pressure.txt') }, '2026-11-25T15:06:40Z');
    expect(causes(v)).toEqual(['plugin_failure', 'memory_pressure', 'token_mismatch']);
    expect(v.findings.map((f) => f.confidence)).toEqual(['high', 'high', 'medium']);
    expect(v.findings.every((f) => f.current)).toBe(true);
  });
});

describe('diagnose: docker restart count and state', () => {
  const startup = fx('log-crash-restart.jsonl').split('\n').slice(30, 46);
  const tab = fx('log-stale-tab-loop.jsonl').split('\n').filter(Boolean);
  /** A gateway started at 15:07, a stale tab looping for two minutes up to the crash, then Docker's restart at 15:37:10. */
  function crashLog(): string {
    return [
      ...shiftTimestamps(startup, Date.parse('2026-11-25T15:07:50Z')),
      ...shiftTimestamps(tab, Date.parse('2026-11-25T15:37:05Z')),
      ...shiftTimestamps(startup, Date.parse('2026-11-25T15:37:25Z')),
    ].join('\n');
  }

  it('parses RestartCount, StartedAt, FinishedAt, ExitCode, OOMKilled and the restart policy as typed facts', () => {
    const ev = parseEvidence(evidenceOutput({ service: fx('derived/docker-inspect-restarted.txt') }));
    expect(ev.service).toMatchObject({
      source: 'docker',
      active: true,
      restarts: 1,
      exitStatus: 0,
      oomKilled: false,
      startedAt: '2026-11-25T15:37:10.112345678Z',
      finishedAt: '2026-11-25T15:37:08.802176377Z',
      restartPolicy: 'unless-stopped',
    });
    const real = parseEvidence(evidenceOutput({ service: fx('docker-inspect-restarted-real.txt') }));
    expect(real.service).toMatchObject({ source: 'docker', active: true, restarts: 1, restartPolicy: 'unless-stopped' });
    expect(Date.parse(real.service!.startedAt!) - Date.parse(real.service!.finishedAt!)).toBeGreaterThan(0);
    const never = parseEvidence(evidenceOutput({ service: 'Status=created Running=false ExitCode=0 OOMKilled=false RestartCount=0 StartedAt=0001-01-01T00:00:00Z FinishedAt=0001-01-01T00:00:00Z RestartPolicy=no Cmd=null' }));
    expect(never.service?.startedAt).toBeUndefined();
    expect(never.service?.finishedAt).toBeUndefined();
  });

  it('a crash Docker recovered from (RestartCount 0→1) is the headline while recent, ahead of an older stale tab', () => {
    // The tab keeps looping after the restart too: both are current, the crash leads.
    const log = `${crashLog()}\n${shiftTimestamps(tab.slice(-6), Date.parse('2026-11-25T15:38:50Z')).join('\n')}`;
    const v = verdict({ service: fx('derived/docker-inspect-restarted.txt'), log }, '2026-11-25T15:39:00Z', dockerHost());
    expect(head(v).cause).toBe('crash_loop');
    expect(head(v).current).toBe(true);
    expect(head(v).summary).toMatch(/crashed inside container openclaw and Docker's restart policy started it again at 15:37:10 \(RestartCount 1\)/);
    expect(joined(v)).toMatch(/ended at 15:37:08, restarted by Docker at 15:37:10/);
    expect(joined(v)).toMatch(/last line before the restart at 15:37:05, no clean shutdown before it/);
    expect(head(v).since).toBe('2026-11-25T15:37:10.112Z');
    // The stale tab is still listed, behind the crash.
    expect(causes(v)).toContain('stale_client');
    expect(causes(v).indexOf('stale_client')).toBeGreaterThan(0);
  });

  it('an old crash stays listed but does not take the headline from what fails now', () => {
    const recentTab = shiftTimestamps(tab, Date.parse('2026-11-25T15:55:50Z'));
    const log = `${crashLog()}\n${recentTab.join('\n')}`;
    const v = verdict({ service: fx('derived/docker-inspect-restarted.txt'), log }, '2026-11-25T15:56:00Z', dockerHost());
    expect(head(v).cause).toBe('stale_client');
    const crash = v.findings.find((f) => f.cause === 'crash_loop');
    expect(crash?.current).toBe(false);
    expect(crash?.summary).toMatch(/RestartCount 1/);
  });

  it('a crash Docker recovered from, then a docker stop: the stop is what fails now, the crash is history', () => {
    // Seen on a real container: kill -9 of the gateway → restart policy (RestartCount 1) → later `docker stop`.
    const down = { status: 'Error response from daemon: container 0123456789ab is not running', ss: fx('derived/ss-nothing.txt'), health: 'x', healthRc: 1 };
    const log = `${crashLog()}\n2026-11-25T15:50:00.100+00:00 [shutdown] completed cleanly in 483ms`;
    const service = fx('derived/docker-inspect-restarted.txt')
      .replace('Status=running Running=true', 'Status=exited Running=false')
      .replace('FinishedAt=2026-11-25T15:37:08.802176377Z', 'FinishedAt=2026-11-25T15:50:00.610000000Z');
    const v = verdict({ ...down, service, log }, '2026-11-25T15:51:00Z', dockerHost());
    expect(head(v).cause).toBe('gateway_down');
    expect(head(v).summary).toMatch(/stopped cleanly/);
    const crash = v.findings.find((f) => f.cause === 'crash_loop');
    expect(crash?.current).toBe(false);
    expect(crash?.supersededBy).toMatch(/clean stop of the restarted gateway at 15:50:00/);
    expect(crash?.summary).not.toMatch(/does not answer now/);
    // Without the clean stop (the restarted run died again), the crash still leads while the gateway is down.
    const crashedAgain = verdict({ ...down, service, log: crashLog() }, '2026-11-25T15:51:00Z', dockerHost());
    expect(head(crashedAgain).cause).toBe('crash_loop');
  });

  it('several restarts by Docker: a crash loop', () => {
    const service = fx('derived/docker-inspect-restarted.txt').replace('RestartCount=1', 'RestartCount=4');
    const v = verdict({ service, log: crashLog() }, '2026-11-25T15:39:00Z', dockerHost());
    expect(head(v).cause).toBe('crash_loop');
    expect(head(v).summary).toMatch(/restarted 4 times recently/);
    expect(head(v).confidence).toBe('high');
  });

  it('docker stop: exit code 137 without OOMKilled is a stop, not an out-of-memory kill', () => {
    const down = { status: 'Error response from daemon: container 0123456789ab is not running', ss: fx('derived/ss-nothing.txt'), health: 'x', healthRc: 1 };
    const log = fxLines('log-crash-restart.stdout.txt', 'derived/log-sigterm.stdout.txt');
    const v = verdict({ ...down, service: fx('derived/docker-inspect-stopped.txt'), log }, '2026-11-25T15:20:00Z', dockerHost());
    expect(head(v).cause).toBe('gateway_down');
    expect(head(v).summary).toMatch(/stopped cleanly/);
    expect(causes(v)).not.toContain('out_of_memory');
    const oom = verdict({ ...down, service: fx('derived/docker-inspect-stopped.txt').replace('OOMKilled=false', 'OOMKilled=true'), log }, '2026-11-25T15:20:00Z', dockerHost());
    expect(head(oom).cause).toBe('out_of_memory');
  });
});
