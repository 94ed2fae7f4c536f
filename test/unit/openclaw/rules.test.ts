/**
 * The rule table over real OpenClaw 2026.9.6 / 2026.4.29 lines (src/standin/samples, copied from
 * the real samples): time-aware ranking, the `--token` override, the rate limit, a port owner of
 * another user, DNS, wording, and the planner reading typed details.
 */
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../../src/domain/diagnosis.js';
import { renderPlan, renderVerdict, probeErrorText } from '../../../src/render/render-results.js';
import { diagnose } from '../../../src/openclaw/diagnose.js';
import { parseEvidence } from '../../../src/openclaw/evidence.js';
import { planFix } from '../../../src/openclaw/plan.js';
import { RULES } from '../../../src/openclaw/rules/index.js';
import { rank } from '../../../src/openclaw/rules/rank.js';
import { isDisruptive, renderStep } from '../../../src/openclaw/step-catalog.js';
import { shiftTimestamps } from '../../support/host-standin/index.js';
import { commandsHost, evidenceOutput, fx, nativeHost } from './helpers.js';

type Parts = Parameters<typeof evidenceOutput>[0];
const host = nativeHost();
const verdict = (parts: Parts, now: string, h = host): Verdict => diagnose(h, parseEvidence(evidenceOutput(parts)), new Date(now));
const lines = (rel: string, endIso: string) => shiftTimestamps(fx(rel).replace(/\n$/, '').split('\n'), Date.parse(endIso));
/** The normal-start lines of the real file log (`loading configuration…` … ready), ending at `endIso`. */
const startup = (endIso: string) => shiftTimestamps(fx('log-crash-restart.jsonl').split('\n').slice(30, 46), Date.parse(endIso));

describe('rule table', () => {
  it('every rule has a unique name', () => {
    const names = RULES.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThan(10);
  });

  it('ranking: not superseded, then current, then confidence, then weight; one per cause', () => {
    const f = (cause: 'stale_client' | 'plugin_failure' | 'device_token_mismatch' | 'token_rotated', o: object) => ({
      cause,
      confidence: 'high' as const,
      weight: 50,
      summary: cause,
      evidence: [],
      userActions: [],
      current: true,
      ...o,
    });
    const r = rank([
      f('token_rotated', { weight: 99, supersededBy: 'a gateway restart at 15:04:00' }),
      f('device_token_mismatch', { weight: 95, confidence: 'low', current: false }),
      f('stale_client', { weight: 90, confidence: 'medium' }),
      f('plugin_failure', { weight: 48 }),
      f('plugin_failure', { weight: 10, current: false }),
    ]);
    expect(r.map((x) => x.cause)).toEqual(['plugin_failure', 'stale_client', 'device_token_mismatch', 'token_rotated']);
    expect(r[0]!.weight).toBe(48);
  });
});

describe('item 1: the cause of what fails now leads', () => {
  it('an old rotation (a restart since) does not outrank a plugin failing now; it says it is over', () => {
    // rotation 15:03 → restart 15:20 → plugin fails at that start; now 15:22
    const log = [
      ...lines('log-token-rotated-while-connected.jsonl', '2026-11-25T15:03:10.962Z'),
      ...startup('2026-11-25T15:20:00Z'),
      ...lines('log-plugin-load-failed.jsonl', '2026-11-25T15:20:05Z'),
    ].join('\n');
    const v = verdict({ log, health: fx('health-plugin-load-failed.json') }, '2026-11-25T15:22:00Z');
    expect(v.findings[0]!.cause).toBe('plugin_failure');
    expect(v.findings[0]!.current).toBe(true);
    expect(v.findings[0]!.details?.pluginIds?.length).toBeGreaterThan(0);
    const rot = v.findings.find((f) => f.cause === 'token_rotated')!;
    expect(rot.supersededBy).toMatch(/gateway restart at 15:19:/);
    expect(rot.current).toBe(false);
    expect(rot.since).toMatch(/^2026-11-25T15:03/);
    // "Also" lines show the finding's summary, marked as over.
    const r = renderVerdict(v, 'f');
    const also = r.fields!.find((x) => x.name.includes('token rotated'))!;
    expect(also.name).toMatch(/over/);
    expect(also.value).toBe(rot.summary);
  });

  it('an old device-token finding (9 min ago) ranks below a current high-confidence plugin failure', () => {
    const log = [...lines('derived/log-device-token-mismatch.stdout.txt', '2026-11-25T15:11:00Z')].join('\n');
    const v = verdict({ log, health: fx('health-plugin-load-failed.json') }, '2026-11-25T15:20:00Z');
    expect(v.findings.map((f) => f.cause).slice(0, 2)).toEqual(['plugin_failure', 'device_token_mismatch']);
    expect(v.findings[1]!.current).toBe(false);
    expect(v.findings[1]!.summary).toMatch(/last seen 9 min ago/);
  });

  it('a stale tab that stopped before a restart is dropped: healthy', () => {
    const log = [...lines('log-stale-tab-loop.jsonl', '2026-11-25T15:06:25Z'), ...startup('2026-11-25T15:08:00Z')].join('\n');
    const v = verdict({ log }, '2026-11-25T15:09:00Z');
    expect(v.findings.map((f) => f.cause)).toEqual(['healthy']);
    // The same tab still failing after the restart is current again.
    const still = [log, ...lines('log-stale-tab-loop.jsonl', '2026-11-25T15:10:30Z')].join('\n');
    const v2 = verdict({ log: still }, '2026-11-25T15:10:40Z');
    expect(v2.findings[0]).toMatchObject({ cause: 'stale_client', current: true });
  });
});

describe('item 1: supersession by a connect only when the connect is the same client', () => {
  // The real `webchat connected` line (2026.9.6): conn, remote=127.0.0.1, client id; no Origin.
  const connectAt = (iso: string, clientId = 'webchat-ui') =>
    shiftTimestamps(
      fx('log-token-rotated-while-connected.jsonl')
        .split('\n')
        .filter((l) => l.includes('webchat connected'))
        .slice(0, 1)
        .map((l) => l.replaceAll('client=webchat-ui', `client=${clientId}`)),
      Date.parse(iso),
    );

  it('a tab known by its Origin is not "superseded by a connect from the same client" when a connect line carries no Origin', () => {
    const log = [...lines('log-stale-tab-loop.jsonl', '2026-11-25T15:06:25Z'), ...connectAt('2026-11-25T15:06:40Z')].join('\n');
    const v = verdict({ log }, '2026-11-25T15:07:00Z');
    const tab = v.findings.find((f) => f.cause === 'stale_client')!;
    expect(tab, JSON.stringify(v.findings)).toBeDefined();
    expect(tab.supersededBy).toBeUndefined();
    expect(tab.current).toBe(true);
    expect(v.findings[0]!.cause).toBe('stale_client');
  });

  it('without an Origin on either side, a later connect from the same remote and client id does supersede it (derived: origins removed)', () => {
    const noOrigin = (ls: string[]) => ls.map((l) => l.split('http://localhost:18789').join('n/a'));
    const failing = noOrigin(lines('log-stale-tab-loop.jsonl', '2026-11-25T15:06:25Z'));
    const v = verdict({ log: [...failing, ...connectAt('2026-11-25T15:06:40Z')].join('\n') }, '2026-11-25T15:07:00Z');
    const f = v.findings.find((x) => x.cause === 'stale_client' || x.cause === 'token_mismatch');
    expect(f?.supersededBy ?? '', JSON.stringify(v.findings)).toMatch(/a successful connect from the same client at 15:06:40/);
    // Another client id at the same remote is not the same client.
    const other = connectAt('2026-11-25T15:06:40Z', 'openclaw-control-ui');
    const v2 = verdict({ log: [...failing, ...other].join('\n') }, '2026-11-25T15:07:00Z');
    expect(v2.findings.every((x) => !/same client/.test(x.supersededBy ?? '')), JSON.stringify(v2.findings)).toBe(true);
  });
});

describe('item 2: gateway started with a --token override', () => {
  it('probe with the config token refused, clients refused: named as an override; commands supervisor → stop, start, verify', () => {
    // Earlier rotation still in the log; then a restart with `--token X`; the host probe (config token) is refused.
    const log = [
      ...lines('log-token-rotated-while-connected.jsonl', '2026-11-25T15:03:10.962Z'),
      ...startup('2026-11-25T15:30:00Z'),
      ...lines('log-wrong-token.jsonl', '2026-11-25T15:31:00Z'),
    ].join('\n');
    const h = commandsHost();
    const v = verdict({ status: fx('gateway-status-token-mismatch.json'), log }, '2026-11-25T15:31:30Z', h);
    const head = v.findings[0]!;
    expect(head.cause).toBe('token_mismatch');
    expect(head.details?.tokenSource).toBe('override');
    expect(head.summary).toMatch(/uses another token than its config: it was started with an override/);
    expect(head.evidence.join('\n')).toMatch(/AUTH_TOKEN_MISMATCH/);
    expect(v.findings.find((f) => f.cause === 'token_rotated')?.supersededBy).toBeTruthy();
    const plan = planFix(h, v);
    expect(plan.steps.map((s) => s.kind)).toEqual(['stop_gateway', 'start_gateway', 'wait_for_gateway']);
    expect(renderPlan(v, plan, 'f', []).body!.join('\n')).not.toMatch(/Nothing on the host/);
  });

  it('a service that passes --token: the words around it survive the redactor', () => {
    const v = verdict({ status: fx('gateway-status-token-mismatch.json'), service: fx('derived/systemd-show-token-override.txt'), log: fx('log-wrong-token.jsonl') }, '2026-11-25T15:02:00Z');
    expect(v.findings[0]!.details?.tokenSource).toBe('service_override');
    expect(v.findings[0]!.evidence[0]).toBe('service definition passes `--token` (its value is never read): it overrides gateway.auth.token');
  });
});

describe('item 3: auth rate limit', () => {
  it('the headline names the Origin, since and until; evidence is that Origin’s; no fresh link during the lockout', () => {
    // Another Origin's stale tab loops at the same time.
    const log = [...lines('log-stale-tab-loop.jsonl', '2026-11-25T15:02:30Z'), ...fx('log-rate-limited.jsonl').split('\n')].join('\n');
    const v = verdict({ log }, '2026-11-25T15:02:40Z');
    const head = v.findings[0]!;
    expect(head.cause).toBe('rate_limited');
    expect(head.summary).toMatch(/from http:\/\/127\.0\.0\.1:18789 is locked out since 15:01:34 until 15:06:34 UTC/);
    expect(head.details).toMatchObject({ origin: 'http://127.0.0.1:18789', lockoutUntil: expect.stringMatching(/^2026-11-25T15:06:34/) });
    expect(head.evidence.length).toBeGreaterThan(1);
    for (const l of head.evidence) expect(l).toContain('origin http://127.0.0.1:18789');
    expect(head.userActions.join(' ')).toMatch(/Close the tab/);
    // The stale tab of the other Origin is the next cause; its fix (a link) waits for the lockout.
    const stale = { ...v, findings: v.findings.filter((f) => f.cause !== 'rate_limited').concat(head) };
    expect(stale.findings[0]!.cause).toMatch(/stale_client|token_mismatch/);
    const plan = planFix(host, stale);
    expect(plan.steps).toEqual([]);
    expect(plan.userActions.join(' ')).toMatch(/until 15:06:34 UTC/);
  });

  it('a gateway restart ends the lockout (the limiter is in memory): a plugin failing at that start leads', () => {
    // Seen in the real sequence (test/openclaw/sequence-real.test.ts): lockout at 15:01:34, restart with a
    // broken plugin at 15:03, now 15:04 — inside the 5 minutes, but the right token from that Origin works again.
    const log = [
      ...fx('log-rate-limited.jsonl').replace(/\n$/, '').split('\n'),
      ...startup('2026-11-25T15:03:00Z'),
      ...lines('log-plugin-load-failed.jsonl', '2026-11-25T15:03:05Z'),
    ].join('\n');
    const v = verdict({ log, health: fx('health-plugin-load-failed.json') }, '2026-11-25T15:04:00Z');
    expect(v.findings[0]!.cause).toBe('plugin_failure');
    const rl = v.findings.find((f) => f.cause === 'rate_limited')!;
    expect(rl).toMatchObject({ current: false, confidence: 'low' });
    expect(rl.supersededBy).toMatch(/^a gateway restart at 15:02:/);
    expect(rl.summary).toMatch(/gateway restart at 15:02:\d\d ended the lockout/);
    expect(rl.details?.lockoutUntil).toBeUndefined();
    // Without the restart the same lines are a lockout in progress.
    const locked = verdict({ log: fx('log-rate-limited.jsonl'), health: fx('health-plugin-load-failed.json') }, '2026-11-25T15:04:00Z');
    expect(locked.findings[0]).toMatchObject({ cause: 'rate_limited', current: true });
  });

  it('after the lockout ended it is history, not the headline', () => {
    const v = verdict({ log: fx('log-rate-limited.jsonl') }, '2026-11-25T15:20:00Z');
    const rl = v.findings.find((f) => f.cause === 'rate_limited')!;
    expect(rl.current).toBe(false);
    expect(rl.summary).toMatch(/lockout ended at 15:06:34 UTC/);
  });
});

describe('item 4: a port owner of another Linux user', () => {
  it('says so, how to see it, what allowKillPortOwner would do; /status shows no foreign HTTP body', () => {
    const text = fx('log-port-conflict.jsonl')
      .split('\n')
      .slice(0, 23)
      .map((l) => (l ? (JSON.parse(l) as { message: string }).message : ''))
      .join('\n');
    const v = verdict({ status: 'x', statusText: text, ss: fx('derived/ss-owner-hidden.txt'), log: fx('log-port-conflict.jsonl'), health: 'x', healthRc: 1 }, '2026-11-25T15:10:00Z');
    const head = v.findings[0]!;
    expect(head.cause).toBe('port_conflict');
    expect(head.summary).toMatch(/another Linux user/);
    expect(head.details?.portOwner).toEqual({ visible: false });
    expect(head.userActions.join(' ')).toMatch(/sudo ss -tlnp/);
    expect(head.userActions.join(' ')).toMatch(/allowKillPortOwner/);
    expect(planFix(nativeHost({ allowKillPortOwner: true }), v).steps).toEqual([]);
    const html = 'gateway rejected websocket upgrade (HTTP 200): <!DOCTYPE HTML><html><head><title>Directory listing for /</title></head><body><ul><li>secret.txt</li></ul></body></html>';
    const shown = probeErrorText(html);
    expect(shown).toBe('gateway rejected websocket upgrade (HTTP 200) (its HTTP body not shown: not the gateway)');
  });
});

describe('items 6, 8: disruptive steps; the probe over an exit code', () => {
  it('only stop, start, restart and kill are disruptive; a link plan is not', () => {
    expect(['stop_gateway', 'start_gateway', 'restart_gateway', 'kill_port_owner'].every((k) => isDisruptive(k as never))).toBe(true);
    expect(['fresh_dashboard_link', 'wait_for_gateway', 'doctor_fix', 'set_gateway_mode_local', 'disable_plugin'].some((k) => isDisruptive(k as never))).toBe(false);
    const v = verdict({ log: fx('log-stale-tab-loop.jsonl') }, '2026-11-25T15:06:40Z');
    expect(planFix(host, v).disruptive).toBe(false);
  });
  it('a start that exits non-zero does not end the fix: wait_for_gateway (the probe) decides', () => {
    expect(renderStep(host, 'start_gateway').continueOnError).toBe(true);
    expect(renderStep(host, 'doctor_fix').description).toMatch(/may change openclaw\.json/);
  });
});

describe('items 10, 11: DNS and wording', () => {
  it('ENOTFOUND of the gateway URL is DNS resolution, not the proxy', () => {
    const h = nativeHost({ gateway: { port: 18789, url: 'wss://claw.example.invalid' } });
    const ev = parseEvidence(evidenceOutput({}));
    ev.externalProbe = { url: 'wss://claw.example.invalid', ok: false, error: 'getaddrinfo ENOTFOUND claw.example.invalid' };
    const v = diagnose(h, ev, new Date('2026-11-25T15:40:00Z'));
    expect(v.findings[0]!.cause).toBe('dns_unresolved');
    expect(v.findings[0]!.details?.hostname).toBe('claw.example.invalid');
    expect(v.findings.map((f) => f.cause)).not.toContain('proxy_blocks_websocket');
    expect(JSON.stringify(v)).not.toMatch(/nginx/);
  });

  it('no ws:// address to open in a browser; no dmesg permission gap on every run; healthy host: nothing to fix', () => {
    const h = nativeHost({ gateway: { port: 18789, url: 'ws://127.0.0.1:18789' } });
    const v = verdict({ log: fx('derived/log-origin-not-allowed.stdout.txt') }, '2026-11-25T15:02:00Z', h);
    expect(v.findings[0]!.userActions.join(' ')).toContain('(http://127.0.0.1:18789)');
    expect(v.findings[0]!.userActions.join(' ')).not.toMatch(/ws:\/\//);
    const ev = parseEvidence(evidenceOutput({ kernel: 'dmesg: read kernel buffer failed: Operation not permitted' }));
    ev.gaps.push('kernel_oom: dmesg: read kernel buffer failed: Operation not permitted');
    const healthy = diagnose(host, ev, new Date('2026-11-25T15:40:00Z'));
    expect(healthy.gaps.join(' ')).not.toMatch(/Operation not permitted/);
    expect(healthy.findings[0]!.cause).toBe('healthy');
    const body = renderPlan(healthy, planFix(host, healthy), 'f', []).body!.join('\n');
    expect(body).toMatch(/healthy: there is nothing to fix/);
    expect(body).not.toMatch(/Nothing on the host would fix this/);
  });
});
