/**
 * Issue 15 item 3: the auto-fix policy counts with the one fix-attempts counter (state/fix-attempts.ts, its
 * auto-fix key, real Redis) and stops at the configured `fix.autoFixMaxPerHour` (default: fix.maxAttemptsPerHour) — not at a
 * limit of its own — escalating once the budget is spent. Confirmed fixes (the other key) do not spend the
 * auto-fix budget. The limit is read from clawmedic.yaml as the app reads it (parseConfigText).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createAutoFix } from '../../src/monitor/auto-fix.js';
import { FixAttempts } from '../../src/state/fix-attempts.js';
import { KeySpace } from '../../src/state/key-space.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/domain/errors.js';
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
/** clawmedic.yaml with one auto-fixing host and `fix` as given. */
const yaml = (fix: string) => `hosts:
  - name: auto
    autoFix: true
    ssh: { host: 203.0.113.7, user: claw, hostKeyFingerprint: "SHA256:${'A'.repeat(43)}" }
    supervisor: { kind: systemd-user }
${fix}`;
const verdict: Verdict = {
  host: 'auto',
  findings: [{ cause: 'gateway_down', confidence: 'high', weight: 90, summary: 'down', evidence: [], userActions: [] }],
  probeOk: false,
  gaps: [],
  at: new Date().toISOString(),
};
const plan: FixPlan = { host: 'auto', cause: 'gateway_down', steps: [{ kind: 'start_gateway', description: 'start the gateway', script: 'true', timeoutMs: 1000, mutates: true }], userActions: [], disruptive: true, verifyWindowSec: 1 };

describe('auto-fix limit', () => {
  /** Runs `firings` firings of one incident on `host` against the limit `maxPerHour`, on keys of `hostName`. */
  async function fire(maxPerHour: number, hostName: string, firings: number) {
    const queued: string[] = [];
    const escalations: string[] = [];
    const audit: string[] = [];
    const notes: string[] = [];
    const h = { ...host, name: hostName };
    const autoFix = createAutoFix({
      hosts: new Map([[hostName, h]]),
      ops: { diagnose: async () => ({ ...verdict, host: hostName }), plan: () => ({ ...plan, host: hostName }) },
      attempts: FixAttempts.autoFixes(redis, keys),
      maxPerHour,
      sender: { escalate: async (_inc, reason) => void escalations.push(reason) },
      audit: { record: async (e) => void audit.push(`${e.event}:${e.action}`) },
      enqueueFix: async (name) => void queued.push(name),
    });
    for (let i = 0; i < firings; i++) {
      const inc = newIncident(hostName, 'gateway_down', 'probe', Date.now());
      inc.fireCount = i + 1;
      await autoFix(inc, (w) => notes.push(w));
    }
    return { queued, escalations, audit, notes };
  }

  it('defaults to fix.maxAttemptsPerHour (fix.autoFixMaxPerHour unset, as before it was a setting), then escalates and stops', async () => {
    expect(parseConfigText(yaml('fix: { maxAttemptsPerHour: 5 }'), 'clawmedic.yaml').fix.autoFixMaxPerHour).toBe(5);
    expect(parseConfigText(yaml(''), 'clawmedic.yaml').fix.autoFixMaxPerHour).toBe(3);
    const max = parseConfigText(yaml('fix: { maxAttemptsPerHour: 3 }'), 'clawmedic.yaml').fix.autoFixMaxPerHour;
    expect(max).toBe(3);
    // Confirmed fixes of the hour are on the other key: they leave the auto-fix budget alone.
    await new FixAttempts(redis, keys).record('auto', 'manual-1');
    const r = await fire(max, 'auto', max + 1);
    expect(r.queued).toHaveLength(max);
    expect(r.escalations).toHaveLength(1);
    expect(r.notes.at(-1)).toBe(`auto-fix stopped: ${max} auto-fixes in the last hour (limit ${max})`);
    expect(r.audit.filter((a) => a === 'allowed:autofix')).toHaveLength(max);
    expect(r.audit.at(-1)).toBe('escalated:autofix');
    expect(await FixAttempts.autoFixes(redis, keys).count('auto')).toBe(max);
    expect(await new FixAttempts(redis, keys).count('auto')).toBe(1);
  });

  it('a configured fix.autoFixMaxPerHour: 1 stops the second auto-fix of the hour', async () => {
    const max = parseConfigText(yaml('fix:\n  autoFixMaxPerHour: 1'), 'clawmedic.yaml').fix.autoFixMaxPerHour;
    expect(max).toBe(1);
    const r = await fire(max, 'auto-one', 2);
    expect(r.queued).toEqual(['auto-one']);
    expect(r.escalations).toEqual(['Auto-fix ran 1 times in the last hour and auto-one is still failing; it stops here.']);
    expect(r.notes.at(-1)).toBe('auto-fix stopped: 1 auto-fixes in the last hour (limit 1)');
    // The same two firings under the default limit both fix: the configured 1 is what stopped the second.
    const d = await fire(2, 'auto-two', 2);
    expect(d.queued).toEqual(['auto-two', 'auto-two']);
    expect(d.escalations).toEqual([]);
  });

  it('refuses a limit that is not an integer 1-60, naming the key', () => {
    const errorOf = (fix: string): string => {
      try {
        parseConfigText(yaml(fix), 'clawmedic.yaml');
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error(`expected a ConfigError for ${fix}`);
    };
    expect(errorOf('fix: { autoFixMaxPerHour: 0 }')).toContain('clawmedic.yaml: fix.autoFixMaxPerHour: expected integer 1-60 (to turn auto-fix off, set autoFix: false on the host)');
    expect(errorOf('fix: { autoFixMaxPerHour: 1.5 }')).toContain('fix.autoFixMaxPerHour: expected integer 1-60');
    expect(errorOf('fix: { autoFixMaxPerHour: 61 }')).toContain('fix.autoFixMaxPerHour: expected integer 1-60');
    expect(errorOf('fix: { autoFixMaxPerHour: "2" }')).toContain('fix.autoFixMaxPerHour: expected integer 1-60');
  });
});
