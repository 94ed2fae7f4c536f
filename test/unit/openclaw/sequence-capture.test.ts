/**
 * The one log of the real-gateway sequence (test/openclaw/sequence-real.test.ts), captured from real
 * OpenClaw 2026.9.6 (test/fixtures/openclaw-real/log-sequence-one-gateway.jsonl, filtered by the
 * evidence pass's grep): cut where a step diagnosed, each state must be named as it was, with every
 * earlier one still in the log.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../../src/domain/diagnosis.js';
import { diagnose } from '../../../src/openclaw/diagnose.js';
import { parseEvidence } from '../../../src/openclaw/evidence.js';
import { planFix } from '../../../src/openclaw/plan.js';
import { evidenceOutput, nativeHost } from './helpers.js';

const REAL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/openclaw-real');
const LINES = readFileSync(path.join(REAL, 'log-sequence-one-gateway.jsonl'), 'utf8').trimEnd().split('\n');
const timeOf = (l: string): string => (JSON.parse(l) as { time: string }).time;
const textOf = (l: string): string => {
  const v = (JSON.parse(l) as { '1'?: unknown })['1'];
  return typeof v === 'string' ? v : JSON.stringify(v);
};
const PORT = Number(/->127\.0\.0\.1:(\d+)/.exec(LINES.find((l) => l.includes('->127.0.0.1:'))!)![1]);
/** The host as the evidence's (sample) gateway status names it; the log's own port is only in its Origins. */
const host = nativeHost();
const lastIndex = (re: RegExp): number => {
  for (let i = LINES.length - 1; i >= 0; i--) if (re.test(textOf(LINES[i]!))) return i;
  return -1;
};

/**
 * Diagnose the log as it stood 1 s after the last line matching `last` (the step's diagnose), or
 * after the first line matching `then` that follows it.
 */
function diagnoseAfter(last: RegExp, then?: RegExp): Verdict {
  let end = lastIndex(last);
  expect(end).toBeGreaterThan(0);
  if (then) {
    const next = LINES.findIndex((l, i) => i > end && then.test(textOf(l)));
    expect(next).toBeGreaterThan(end);
    end = next;
  }
  const now = new Date(Date.parse(timeOf(LINES[end]!)) + 1000);
  return diagnose(host, parseEvidence(evidenceOutput({ log: LINES.slice(0, end + 1).join('\n') })), now);
}

describe('the real sequence log (2026.9.6), cut at each step', () => {
  it('step 4: the lockout leads; the locked-out tab is not "superseded by a connect" of another Origin', () => {
    // As the step diagnosed: after the right token got in from the other Origin.
    const v = diagnoseAfter(/reason=rate_limited/, /^webchat connected /);
    const h = v.findings[0]!;
    expect(h.cause).toBe('rate_limited');
    expect(h.details?.origin).toBe(`http://localhost:${PORT}`);
    // The good connect that followed came from http://127.0.0.1:<port>; connect lines carry no Origin.
    for (const f of v.findings.filter((x) => x.details?.origin === `http://localhost:${PORT}`)) {
      expect(f.supersededBy ?? '', JSON.stringify(f)).not.toMatch(/same client/);
    }
    expect(planFix(host, v).steps).toEqual([]);
  });

  it('step 7: a paired browser with an old device token leads, naming the host-side rotation; the fresh link is the fix', () => {
    const v = diagnoseAfter(/reason=device_token_mismatch/);
    const h = v.findings[0]!;
    expect(h.cause).toBe('device_token_mismatch');
    expect(h.current).toBe(true);
    expect(h.summary).toMatch(/^1 paired device\(s\) present an old device token \(browser tab \(Control UI\) "webchat-ui" from http:\/\/127\.0\.0\.1:\d+\); a device token was rotated on the host at \d\d:\d\d:\d\d \(`openclaw devices rotate`\)$/);
    expect(h.evidence[0]).toMatch(/^\d\d:\d\d:\d\d device token rotated \(device [0-9a-f]{8}…, role operator\)$/);
    expect(h.evidence.slice(1).every((l) => l.includes('device_token_mismatch'))).toBe(true);
    expect(h.userActions[0]).toMatch(/fresh dashboard link/);
    // Older causes of the same log rank below it, marked as over.
    expect(v.findings.slice(1).every((f) => f.current === false || f.supersededBy), JSON.stringify(v.findings.map((f) => [f.cause, f.current, f.supersededBy]))).toBe(true);
    expect(planFix(host, v).steps.map((s) => s.kind)).toEqual(['fresh_dashboard_link']);
  });

  it('after the step-7 fix: the device connects with its reissued token, nothing fails', () => {
    const end = LINES.length - 1;
    const fixAt = lastIndex(/reason=device_token_mismatch/);
    const v = diagnose(
      host,
      parseEvidence(evidenceOutput({ log: LINES.join('\n') })),
      new Date(Date.parse(timeOf(LINES[end]!)) + 1000),
      { since: new Date(Date.parse(timeOf(LINES[fixAt]!)) + 100) },
    );
    expect(v.findings.map((f) => f.cause)).toEqual(['healthy']);
  });
});
