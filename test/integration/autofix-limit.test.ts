/**
 * Issue 15 item 3: the auto-fix policy counts with the one fix-attempts counter (state/fix-attempts.ts, its
 * auto-fix key, real Redis) and stops at MONITOR_DEFAULTS.autoFixMaxPerHour — not at a limit of its own —
 * escalating once the budget is spent. Confirmed fixes (the other key) do not spend the auto-fix budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createAutoFix } from '../../src/monitor/auto-fix.js';
import { FixAttempts } from '../../src/state/fix-attempts.js';
import { KeySpace } from '../../src/state/key-space.js';
import { MONITOR_DEFAULTS } from '../../src/monitor-constants.js';
import { newIncident } from '../../src/monitor/incident-machine.js';
import type { FixPlan, Verdict } from '../../src/domain/diagnosis.js';
import type { HostConfig } from '../../src/domain/host.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';

const prefix = uniquePrefix('autofix-limit');
const keys = new KeySpace(prefix);
let redis: Redis;
beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  redis.disconnect();
  await cleanupPrefix(prefix);
});

const host = { name: 'auto', autoFix: true } as HostConfig;
const verdict: Verdict = {
  host: 'auto',
  findings: [{ cause: 'gateway_down', confidence: 'high', weight: 90, summary: 'down', evidence: [], userActions: [] }],
  probeOk: false,
  gaps: [],
  at: new Date().toISOString(),
};
const plan: FixPlan = { host: 'auto', cause: 'gateway_down', steps: [{ kind: 'start_gateway', description: 'start the gateway', script: 'true', timeoutMs: 1000, mutates: true }], userActions: [], disruptive: true, verifyWindowSec: 1 };

describe('auto-fix limit', () => {
  it('queues up to MONITOR_DEFAULTS.autoFixMaxPerHour fixes per host per hour, then escalates and stops', async () => {
    const queued: string[] = [];
    const escalations: string[] = [];
    const audit: string[] = [];
    // Confirmed fixes of the hour are on the other key: they leave the auto-fix budget alone.
    await new FixAttempts(redis, keys).record('auto', 'manual-1');
    const autoFix = createAutoFix({
      hosts: new Map([['auto', host]]),
      ops: { diagnose: async () => verdict, plan: () => plan },
      attempts: FixAttempts.autoFixes(redis, keys),
      sender: { escalate: async (_inc, reason) => void escalations.push(reason) },
      audit: { record: async (e) => void audit.push(`${e.event}:${e.action}`) },
      enqueueFix: async (h) => void queued.push(h),
    });
    const max = MONITOR_DEFAULTS.autoFixMaxPerHour;
    const notes: string[] = [];
    for (let i = 0; i <= max; i++) {
      const inc = newIncident('auto', 'gateway_down', 'probe', Date.now());
      inc.fireCount = i + 1;
      await autoFix(inc, (w) => notes.push(w));
    }
    expect(queued).toHaveLength(max);
    expect(escalations).toHaveLength(1);
    expect(notes.at(-1)).toBe(`auto-fix stopped: ${max} auto-fixes in the last hour (limit ${max})`);
    expect(audit.filter((a) => a === 'allowed:autofix')).toHaveLength(max);
    expect(audit.at(-1)).toBe('escalated:autofix');
    expect(await FixAttempts.autoFixes(redis, keys).count('auto')).toBe(max);
    expect(await new FixAttempts(redis, keys).count('auto')).toBe(1);
  });
});
