/**
 * Opt-in auto-fix (issue 6): a host with `autoFix: true` whose gateway is down gets the same
 * diagnose → plan → fix → verify as a confirmed /fix, started by the monitor, limited per hour.
 * A host without the opt-in is only alerted; past `fix.autoFixMaxPerHour` the monitor escalates instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncidentStore } from '../../src/state/incident-store.js';
import { startHarness, type Harness } from '../support/app-harness.js';

let h: Harness;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 45_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

beforeAll(async () => {
  h = await startHarness({
    moreHosts: () => [{ name: 'auto', autoFix: true }],
    app: {
      monitor: true,
      verifyWindowSec: 1,
      monitorTuning: { tickMs: 200, backoffMinMs: 200, backoffMaxMs: 1000, probeIntervalMs: 1000, blindNoticeAfterMs: 60_000 },
    },
    extra: {
      // Alerts go to a Discord channel; no Discord adapter runs here, so they just wait in the notify queue.
      chats: [{ platform: 'discord', chatId: '998877665544332211', hosts: ['auto'], alerts: true }],
      alerts: { probeIntervalSec: 1, probeFailuresToFire: 2, fireAfterEvents: 3, fireWindowSec: 60, resolveAfterSec: 3, reminderIntervalSec: 600 },
      // One auto-fix an hour (default 2): the second failure below is escalated, not fixed.
      fix: { maxAttemptsPerHour: 3, verifyWindowSec: 1, autoFixMaxPerHour: 1 },
    },
  });
}, 60_000);
afterAll(async () => h?.close());

describe('auto-fix', () => {
  it('a down gateway on an opted-in host is fixed by the monitor, through the router and the fix worker', async () => {
    await h.standin.clearCalls();
    await h.standin.setScenario('gateway_down');
    const outcome = await until('the auto-fix outcome in the audit trail', async () =>
      (await h.app.audit.recent('auto', 100)).find((e) => e.event === 'fix_outcome'),
    );
    expect(outcome.detail).toMatch(/^fixed/);
    expect(outcome.actor?.userId).toBe('clawmedic-autofix');
    const trail = await h.app.audit.recent('auto', 100);
    expect(trail.some((e) => e.event === 'allowed' && e.action === 'autofix')).toBe(true);
    const calls = (await h.standin.calls()).map((c) => c.join(' '));
    expect(calls.filter((c) => c === 'openclaw doctor --fix').length).toBeGreaterThanOrEqual(1);
    expect((await h.standin.state()).running).toBe('1');
    // prod shares the stand-in but has no opt-in: nothing was fixed on its behalf.
    expect((await h.app.audit.recent('prod', 100)).some((e) => e.action === 'fix' || e.action === 'autofix')).toBe(false);
  }, 90_000);

  it('the next failure within the hour is past fix.autoFixMaxPerHour (1 here): escalated to the admins, not fixed', async () => {
    // The first incident resolves first (quiet window 3 s after the fix): the failure below fires it again.
    const incidents = new IncidentStore(h.app.redis, h.keys);
    await until('the first incident resolved', async () => {
      const open = await incidents.loadOpen('auto');
      return open.length > 0 && open.every((i) => i.phase === 'resolved');
    });
    const fixesBefore = (await h.app.audit.recent('auto', 100)).filter((e) => e.event === 'fix_outcome').length;
    await h.standin.clearCalls();
    await h.standin.setScenario('gateway_down');
    const escalated = await until('the auto-fix escalation in the audit trail', async () =>
      (await h.app.audit.recent('auto', 100)).find((e) => e.event === 'escalated' && e.action === 'autofix'),
    );
    expect(escalated.detail).toBe('1 auto-fixes in the last hour');
    const trail = await h.app.audit.recent('auto', 100);
    expect(trail.filter((e) => e.event === 'allowed' && e.action === 'autofix')).toHaveLength(1);
    expect(trail.filter((e) => e.event === 'fix_outcome')).toHaveLength(fixesBefore);
    expect((await h.standin.calls()).map((c) => c.join(' '))).not.toContain('openclaw doctor --fix');
    expect((await h.standin.state()).running).not.toBe('1');
  }, 90_000);
});
