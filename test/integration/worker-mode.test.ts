/**
 * `clawmedic worker`: a second process (here a second app) that only runs workers takes jobs
 * queued by another; and a graceful shutdown lets a running fix finish before it closes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/app-harness.js';
import { createApp, type App } from '../../src/main.js';
import { createLogger } from '../../src/util/logger.js';

let h: Harness;
let front: App;

beforeAll(async () => {
  // h.app runs the workers only; `front` is a console with no workers of its own.
  h = await startHarness({ app: { adapters: [], http: false, verifyWindowSec: 2 } });
  front = await createApp(h.loaded, { workers: false, adapters: ['console'], http: false, redisWaitMs: 3000, logger: createLogger('silent'), consoleWrite: () => undefined });
}, 60_000);
afterAll(async () => {
  await front?.close();
  await h?.close();
});

describe('worker mode and graceful shutdown', () => {
  it('a console without workers is served by the worker process sharing Redis', async () => {
    await h.standin.setScenario('healthy');
    const con = front.console!;
    const res = await con.input('/status prod');
    const reply = await con.waitFor(res.messageKey!, 30_000);
    expect(reply.title).toBe('prod: OK');
    expect(front.workers).toHaveLength(0);
  });

  it('closing the worker process mid-fix lets the fix finish and report', async () => {
    await h.standin.setScenario('gateway_down');
    const con = front.console!;
    const first = await con.input('/fix prod');
    const plan = await con.waitFor(first.messageKey!, 30_000);
    const pressed = await con.press(plan.buttons!.find((b) => b.action === 'confirm')!);
    await con.waitFor(pressed.messageKey!, 30_000, (r) => r.title.includes('verifying'));
    const closing = h.app.close(); // SIGTERM path: stop taking work, finish running jobs
    const outcome = await con.waitFor(pressed.messageKey!, 60_000);
    await closing;
    expect(outcome.title).toMatch(/^prod: fixed/);
  }, 90_000);
});
