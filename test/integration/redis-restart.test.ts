/**
 * Redis lost in the middle of a fix (kill -9, then back with its AOF): the fix finishes, the
 * user gets the result, nothing crashes and nothing runs twice on the host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/app-harness.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';

let redis: OwnRedis;
let h: Harness;

beforeAll(async () => {
  redis = await startOwnRedis();
  h = await startHarness({ secrets: { redisUrl: redis.url }, app: { verifyWindowSec: 4 } });
}, 60_000);
afterAll(async () => {
  await h?.close();
  await redis?.dispose();
});

describe('Redis lost mid-job', () => {
  it('a confirmed fix survives a Redis crash and restart during its verify window', async () => {
    await h.standin.setScenario('gateway_down');
    await h.standin.clearCalls();
    const con = h.app.console!;
    const first = await con.input('/fix prod');
    const plan = await con.waitFor(first.messageKey!, 60_000);
    const confirm = plan.buttons!.find((b) => b.action === 'confirm')!;
    const pressed = await con.press(confirm);
    await con.waitFor(pressed.messageKey!, 60_000, (r) => r.title.includes('verifying'));

    await redis.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 800));
    await redis.start();

    const outcome = await con.waitFor(pressed.messageKey!, 90_000);
    expect(outcome.title).toMatch(/^prod: fixed/);
    const calls = (await h.standin.calls()).map((a) => a.join(' '));
    expect(calls.filter((c) => c === 'openclaw doctor --fix')).toHaveLength(1);
    // The audit trail written before the crash survived it (AOF).
    const trail = await h.app.audit.recent('prod', 50);
    expect(trail.map((e) => e.event)).toEqual(expect.arrayContaining(['confirmed', 'step', 'fix_outcome']));
  }, 120_000);
});
