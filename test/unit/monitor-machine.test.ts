/**
 * The incident state machine as pure code: thresholds, distinct clients, replayed lines, flapping,
 * resolve window, reminders, ack, mute and inhibition by host-unreachable.
 */
import { describe, expect, it } from 'vitest';
import {
  ackIncident,
  applyMute,
  applyProbeFailure,
  applySignal,
  countBucket,
  evaluate,
  markDone,
  newIncident,
  type Action,
  type AlertPolicy,
  type EvalContext,
} from '../../src/monitor/incident-machine.js';
import type { Incident } from '../../src/domain/incident.js';
import type { Signal } from '../../src/monitor/signals.js';

const policy: AlertPolicy = {
  fireAfterEvents: 3,
  fireWindowMs: 60_000,
  probeFailuresToFire: 2,
  resolveAfterMs: 30_000,
  reminderIntervalMs: 600_000,
  flapWindowMs: 1_800_000,
  flapResolveFactor: 3,
  editMinIntervalMs: 5_000,
  editRefreshMs: 300_000,
  buttonRefreshMs: 12 * 3600_000,
};

const T0 = Date.parse('2026-11-25T15:00:00Z');
let connSeq = 0;
function sig(at: number, client = 'http://localhost:18789|webchat-ui', extra: Partial<Signal> = {}): Signal {
  return { family: 'token_mismatch', cause: 'token_mismatch', at, clientKey: client, dedupe: connSeq++, evidence: `e${at}`, ...extra };
}
function ctx(now: number, over: Partial<EvalContext> = {}): EvalContext {
  return { now, muted: false, inhibited: false, autoFix: false, ...over };
}
/** Evaluate and carry out every action (as the host monitor does after a successful send). */
function step(inc: Incident, c: EvalContext): Action['kind'][] {
  const ev = evaluate(inc, c, policy);
  for (const a of ev.actions) markDone(inc, a, c.now);
  return ev.actions.map((a) => a.kind);
}

describe('thresholds and clients', () => {
  it('stays suspect below N events in the window and fires at N', () => {
    const inc = newIncident('prod', 'token_mismatch', 'log', T0);
    applySignal(inc, sig(T0), policy, T0);
    applySignal(inc, sig(T0 + 1000), policy, T0 + 1000);
    expect(inc.phase).toBe('suspect');
    expect(step(inc, ctx(T0 + 1500))).toEqual([]);
    applySignal(inc, sig(T0 + 2000), policy, T0 + 2000);
    expect(inc.phase).toBe('firing');
    expect(step(inc, ctx(T0 + 2100))).toEqual(['announce']);
  });

  it('events spread wider than the window do not fire; the suspect goes back to ok', () => {
    const inc = newIncident('prod', 'token_mismatch', 'log', T0);
    applySignal(inc, sig(T0), policy, T0);
    applySignal(inc, sig(T0 + 50_000), policy, T0 + 50_000);
    applySignal(inc, sig(T0 + 130_000), policy, T0 + 130_000);
    expect(inc.phase).toBe('suspect');
    expect(evaluate(inc, ctx(T0 + 200_000), policy).done).toBe(true);
  });

  it('one client → stale_client; a second distinct client → token_mismatch (same incident)', () => {
    const inc = newIncident('prod', 'token_mismatch', 'log', T0);
    for (let i = 0; i < 5; i++) applySignal(inc, sig(T0 + i * 1000), policy, T0 + i * 1000);
    expect(inc.cause).toBe('stale_client');
    expect(inc.clients).toHaveLength(1);
    applySignal(inc, sig(T0 + 6000, 'https://claw.example.com|openclaw-control-ui'), policy, T0 + 6000);
    expect(inc.cause).toBe('token_mismatch');
    expect(inc.clients).toHaveLength(2);
  });

  it('a rotation mark makes it token_rotated', () => {
    const inc = newIncident('prod', 'token_mismatch', 'log', T0);
    applySignal(inc, sig(T0, undefined, { mark: 'rotation' }), policy, T0);
    expect(inc.cause).toBe('token_rotated');
  });

  it('the same connection read twice (replay after reconnect) counts once', () => {
    const inc = newIncident('prod', 'token_mismatch', 'log', T0);
    const s = sig(T0);
    expect(applySignal(inc, s, policy, T0)).toBe(true);
    expect(applySignal(inc, { ...s }, policy, T0)).toBe(false);
    expect(inc.count).toBe(1);
  });

  it('500 events of one stale tab are one incident, edits are throttled', () => {
    const inc = newIncident('prod', 'token_mismatch', 'log', T0);
    const kinds: string[] = [];
    for (let i = 0; i < 500; i++) {
      const now = T0 + i * 100;
      applySignal(inc, sig(now), policy, now);
      kinds.push(...step(inc, ctx(now)));
    }
    expect(inc.count).toBe(500);
    expect(kinds.filter((k) => k === 'announce')).toHaveLength(1);
    // 50 s of events, at most one edit per 5 s.
    expect(kinds.filter((k) => k === 'edit').length).toBeLessThanOrEqual(10);
  });

  it('edits are coalesced to what a reader notices: counts by bucket, a new client, an ack; a refresh now and then (issue 13.4)', () => {
    expect([1, 7, 10, 11, 19, 20, 49, 50, 99, 100, 199, 200, 499, 500, 1999, 2000].map(countBucket)).toEqual([1, 7, 10, 10, 10, 20, 20, 50, 50, 100, 100, 200, 200, 500, 1000, 2000]);
    const inc = newIncident('prod', 'token_mismatch', 'log', T0);
    const editsAt: number[] = [];
    let now = T0;
    // One stale tab, one refusal every 6 s (past the 5 s edit interval each time): 160 events in 16 minutes.
    for (let i = 1; i <= 160; i++) {
      now = T0 + i * 6000;
      applySignal(inc, sig(now), policy, now);
      if (step(inc, ctx(now)).includes('edit')) editsAt.push(inc.count);
    }
    // Announced at 3; every count up to 10 shown; then only 20, 50 and 100 (bucket changes);
    // then a refresh 5 minutes after the last edit (count 150 at 900 s).
    expect(editsAt).toEqual([4, 5, 6, 7, 8, 9, 10, 20, 50, 100, 150]);
    // A second client is news at once; so is an ack.
    now += 6000;
    applySignal(inc, sig(now, 'https://other.example|webchat-ui'), policy, now);
    expect(step(inc, ctx(now))).toContain('edit');
    now += 6000;
    ackIncident(inc, 'alice', now);
    expect(step(inc, ctx(now))).toContain('edit');
  });

  it('an alert left unchanged for 12 h is re-sent with fresh buttons (they expire after 24 h), muted or not (issue 14.3)', () => {
    for (const muted of [false, true]) {
      const inc = newIncident('prod', 'token_mismatch', 'log', T0);
      for (let i = 0; i < 3; i++) applySignal(inc, sig(T0 + i), policy, T0 + i);
      expect(step(inc, ctx(T0 + 10))).toEqual(['announce']);
      // Quiet but not resolved (the probe never answered ok), reminders acked away.
      ackIncident(inc, 'alice', T0 + 20);
      step(inc, ctx(T0 + 6000, { muted }));
      expect(step(inc, ctx(T0 + 11 * 3600_000, { muted }))).not.toContain('edit');
      expect(step(inc, ctx(T0 + 12 * 3600_000 + 7000, { muted }))).toContain('edit');
      expect(step(inc, ctx(T0 + 12 * 3600_000 + 60_000, { muted }))).not.toContain('edit');
    }
  });

  it('probe failures fire after M consecutive failures', () => {
    const inc = newIncident('prod', 'gateway_down', 'probe', T0);
    applyProbeFailure(inc, { at: T0, consecutive: 1, evidence: 'probe: ECONNREFUSED' }, policy, T0);
    expect(inc.phase).toBe('suspect');
    applyProbeFailure(inc, { at: T0 + 10_000, consecutive: 2, evidence: 'probe: ECONNREFUSED' }, policy, T0 + 10_000);
    expect(inc.phase).toBe('firing');
  });
});

function firing(now = T0): Incident {
  const inc = newIncident('prod', 'token_mismatch', 'log', now);
  for (let i = 0; i < 3; i++) applySignal(inc, sig(now + i), policy, now + i);
  expect(step(inc, ctx(now + 10))).toEqual(['announce']);
  return inc;
}

describe('resolve, recovery, flapping', () => {
  it('resolves only with probe ok after the last event and a quiet window; recovery is sent once', () => {
    const inc = firing();
    const last = inc.lastEventAt;
    expect(step(inc, ctx(last + 40_000))).toEqual([]); // no probe yet
    expect(step(inc, ctx(last + 40_000, { lastProbeOkAt: last - 1 }))).toEqual([]); // probe older than the last event
    expect(step(inc, ctx(last + 20_000, { lastProbeOkAt: last + 10_000 }))).toEqual([]); // quiet window not over
    expect(step(inc, ctx(last + 31_000, { lastProbeOkAt: last + 10_000 }))).toEqual(['recover', 'edit']);
    expect(inc.phase).toBe('resolved');
    expect(step(inc, ctx(last + 60_000, { lastProbeOkAt: last + 10_000 }))).toEqual([]);
  });

  it('recovery is never swallowed: not by mute, not by ack, not by inhibition', () => {
    const inc = firing();
    expect(ackIncident(inc, 'alice', T0 + 100)).toBe(true);
    const last = inc.lastEventAt;
    expect(step(inc, ctx(last + 31_000, { lastProbeOkAt: last + 1, muted: true, inhibited: true }))).toEqual(['recover', 'edit']);
  });

  it('an incident that never reached the chats (muted all along) resolves silently', () => {
    const inc = newIncident('prod', 'token_mismatch', 'log', T0);
    for (let i = 0; i < 3; i++) applySignal(inc, sig(T0 + i), policy, T0 + i);
    expect(step(inc, ctx(T0 + 10, { muted: true }))).toEqual([]);
    expect(step(inc, ctx(T0 + 40_000, { muted: true, lastProbeOkAt: T0 + 5 }))).toEqual([]);
    expect(inc.phase).toBe('resolved');
  });

  it('firing again soon after resolving is the same incident, flapping, with one notice and a longer quiet window', () => {
    const inc = firing();
    const id = inc.id;
    let last = inc.lastEventAt;
    step(inc, ctx(last + 31_000, { lastProbeOkAt: last + 1 }));
    expect(inc.phase).toBe('resolved');
    const t1 = last + 60_000;
    for (let i = 0; i < 3; i++) applySignal(inc, sig(t1 + i), policy, t1 + i);
    expect(inc.id).toBe(id);
    expect(inc.flapping).toBe(true);
    expect(step(inc, ctx(t1 + 10))).toEqual(['flap_notice', 'edit']);
    last = inc.lastEventAt;
    // the normal window is not enough while flapping
    expect(step(inc, ctx(last + 31_000, { lastProbeOkAt: last + 1 }))).toEqual([]);
    expect(step(inc, ctx(last + 91_000, { lastProbeOkAt: last + 1 }))).toEqual(['recover', 'edit']);
  });

  it('a resolved incident leaves the open set after the flap window', () => {
    const inc = firing();
    const last = inc.lastEventAt;
    step(inc, ctx(last + 31_000, { lastProbeOkAt: last + 1 }));
    expect(evaluate(inc, ctx(last + 31_000 + policy.flapWindowMs + 1), policy).done).toBe(true);
  });
});

describe('reminders, ack, mute, inhibition', () => {
  it('reminds at the interval until acked; ack names who acked', () => {
    const inc = firing();
    expect(step(inc, ctx(T0 + 600_100))).toContain('remind');
    expect(inc.reminders).toBe(1);
    expect(step(inc, ctx(T0 + 700_000))).not.toContain('remind');
    expect(step(inc, ctx(T0 + 1_200_200))).toContain('remind');
    expect(ackIncident(inc, 'alice (telegram)', T0 + 1_200_300)).toBe(true);
    expect(inc.ackedBy).toBe('alice (telegram)');
    expect(ackIncident(inc, 'bob', T0 + 1_200_400)).toBe(false);
    expect(step(inc, ctx(T0 + 1_200_500))).toEqual(['edit']); // the message shows the ack
    expect(step(inc, ctx(T0 + 5_000_000))).not.toContain('remind');
  });

  it('mute holds the alert and sends it when the mute ends', () => {
    const inc = newIncident('prod', 'token_mismatch', 'log', T0);
    for (let i = 0; i < 3; i++) applySignal(inc, sig(T0 + i), policy, T0 + i);
    expect(step(inc, ctx(T0 + 10, { muted: true }))).toEqual([]);
    expect(step(inc, ctx(T0 + 700_000, { muted: true }))).toEqual([]); // no reminder either
    expect(step(inc, ctx(T0 + 700_001))).toEqual(['announce']);
  });

  it('a mute set on an announced alert is shown by one edit, then held; lifting it is shown by the normal edit', () => {
    const inc = firing();
    expect(inc.announced).toBe(true);
    const until = T0 + 3_600_000;
    expect(applyMute(inc, { by: 'Olga', until })).toBe(true);
    expect(applyMute(inc, { by: 'Olga', until })).toBe(false); // same mute read again: nothing to show
    expect(step(inc, ctx(T0 + 20_000, { muted: true }))).toEqual(['edit']);
    expect(inc.mutedBy).toBe('Olga');
    applySignal(inc, sig(T0 + 21_000), policy, T0 + 21_000); // more failures while muted: held
    expect(step(inc, ctx(T0 + 700_000, { muted: true }))).toEqual([]);
    expect(applyMute(inc, undefined)).toBe(true);
    expect(inc.mutedBy).toBeUndefined();
    expect(step(inc, ctx(T0 + 700_001))).toContain('edit');
  });

  it('a mute on an alert nobody saw yet changes no message', () => {
    const inc = newIncident('prod', 'token_mismatch', 'log', T0);
    for (let i = 0; i < 3; i++) applySignal(inc, sig(T0 + i), policy, T0 + i);
    expect(applyMute(inc, { by: 'Olga', until: T0 + 60_000 })).toBe(true);
    expect(step(inc, ctx(T0 + 10, { muted: true }))).toEqual([]);
  });

  it('inhibited by host unreachable: gateway incident held; unreachable resolves when SSH works again', () => {
    const gw = newIncident('prod', 'gateway_down', 'probe', T0);
    applyProbeFailure(gw, { at: T0, consecutive: 2, evidence: 'x' }, policy, T0);
    expect(step(gw, ctx(T0 + 1, { inhibited: true }))).toEqual([]);
    const un = newIncident('prod', 'host_unreachable', 'probe', T0);
    applyProbeFailure(un, { at: T0, consecutive: 2, evidence: 'ssh: ECONNREFUSED' }, policy, T0);
    expect(step(un, ctx(T0 + 1))).toEqual(['announce']);
    expect(step(un, ctx(T0 + 2, { lastReachableAt: T0 + 2 }))).toEqual(['recover', 'edit']);
  });

  it('auto-fix is asked for once per firing, only when enabled and not muted', () => {
    const inc = newIncident('prod', 'gateway_down', 'probe', T0);
    applyProbeFailure(inc, { at: T0, consecutive: 2, evidence: 'x' }, policy, T0);
    expect(step(inc, ctx(T0 + 1, { autoFix: true, muted: true }))).toEqual([]);
    expect(step(inc, ctx(T0 + 2, { autoFix: true }))).toEqual(['autofix', 'announce']);
    expect(step(inc, ctx(T0 + 3, { autoFix: true }))).not.toContain('autofix');
  });
});
