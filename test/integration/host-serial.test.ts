/**
 * One job per host at a time: a /diagnose sent while a fix runs on the same host waits for it
 * (its requester is told what it waits for), then runs; nothing runs interleaved on the host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/app-harness.js';
import type { Reply } from '../../src/domain/types.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ app: { verifyWindowSec: 3 } });
}, 60_000);
afterAll(async () => h?.close());

describe('per-host single flight', () => {
  it('a diagnose during a fix waits for the fix, says so, then runs after it', async () => {
    await h.standin.setScenario('gateway_down');
    const con = h.app.console!;
    const first = await con.input('/fix prod');
    const plan = await con.waitFor(first.messageKey!, 30_000);
    const pressed = await con.press(plan.buttons!.find((b) => b.action === 'confirm')!);
    await con.waitFor(pressed.messageKey!, 30_000, (r) => r.title.includes('verifying'));

    const diag = await con.input('/diagnose prod');
    const waiting = await con.waitFor(diag.messageKey!, 10_000, (r: Reply) => r.title.includes('waiting for the running fix'));
    expect(waiting.tone).toBe('pending');
    const fixed = await con.waitFor(pressed.messageKey!, 60_000);
    expect(fixed.title).toMatch(/^prod: fixed/);
    const verdict = await con.waitFor(diag.messageKey!, 60_000);
    // It ran after the fix: the gateway it saw was the repaired one.
    expect(verdict.title).toBe('prod: healthy');
  }, 90_000);
});
