/**
 * Regression (found by bench/diagnose-pass): a gateway log over the output cap cut the log
 * section, parseEvidence dropped it whole, and /diagnose said "healthy (high)" while a tab failed.
 */
import { describe, expect, it } from 'vitest';
import { parseEvidence, buildEvidenceScript, RC_MARK } from '../../../src/openclaw/evidence.js';
import { diagnose } from '../../../src/openclaw/diagnose.js';
import { evidenceOutput, fx, nativeHost } from './helpers.js';

const NOW = new Date('2026-11-25T15:05:00Z');

describe('evidence cut by the output cap', () => {
  it('still reads the log lines that arrived, and reports the cut', () => {
    const full = evidenceOutput({ log: fx('log-stale-tab-loop.jsonl') });
    // Cut in the middle of the log section, as the byte cap does (no rc line at the end).
    const cut = full.slice(0, full.lastIndexOf(RC_MARK) - 500);
    const ev = parseEvidence(cut);
    expect(ev.logEvents.length).toBeGreaterThan(5);
    expect(ev.gaps.join(' ')).toMatch(/log_file: output cut short/);
    const v = diagnose(nativeHost(), ev, NOW);
    expect(v.findings[0]!.cause).not.toBe('healthy');
  });

  it('never says "healthy" with high confidence when no gateway log could be read', () => {
    const out = evidenceOutput({}).replace(/(@@CLAWMEDIC section=log_file\n)[\s\S]*?(\n\n@@CLAWMEDIC rc=)0/, '$1no readable log file$22');
    const v = diagnose(nativeHost(), parseEvidence(out), NOW);
    expect(v.findings[0]).toMatchObject({ cause: 'healthy', confidence: 'low' });
    expect(v.findings[0]!.summary).toMatch(/log could not be read/);
  });

  it('bounds every log source by bytes on the host, newest lines kept', () => {
    const script = buildEvidenceScript(nativeHost());
    expect(script.match(/\| tail -c \d+/g)?.length).toBeGreaterThanOrEqual(2);
  });
});
