/**
 * Opt-in auto-fix (issue 6): a host with `autoFix: true` whose gateway is down gets the same
 * diagnose → plan → fix → verify as a confirmed /fix, started by the monitor, limited per hour.
 * A host without the opt-in is only alerted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
      fix: { maxAttemptsPerHour: 3, verifyWindowSec: 1 },
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
});
