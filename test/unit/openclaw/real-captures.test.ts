/**
 * Output captured from a real OpenClaw 2026.9.6 gateway by the real suite (test/fixtures/openclaw-real/,
 * see its README): where it differs from the shared samples, clawmedic must still name the cause.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseLog } from '../../../src/openclaw/log-parser.js';
import { parseGatewayStatus } from '../../../src/openclaw/parse-gateway-status.js';
import { parseEvidence } from '../../../src/openclaw/evidence.js';
import { diagnose } from '../../../src/openclaw/diagnose.js';
import { evidenceOutput, fx, nativeHost } from './helpers.js';

const REAL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/openclaw-real');
const real = (f: string) => readFileSync(path.join(REAL, f), 'utf8');

describe('real 2026.9.6 captures', () => {
  it('the "start blocked" wording of a fresh onboard without gateway.mode is understood', () => {
    const events = parseLog(real('log-mode-unset-blocked.txt'));
    expect(events.map((e) => e.kind)).toContain('mode_blocked');
    const v = diagnose(
      nativeHost(),
      parseEvidence(
        evidenceOutput({
          status: fx('gateway-status-down.json'),
          ss: fx('derived/ss-nothing.txt'),
          config: fx('derived/config-facts-mode-unset.txt'),
          log: real('log-mode-unset-blocked.txt'),
        }),
      ),
      new Date('2026-11-25T15:40:30Z'),
    );
    expect(v.findings[0]!.cause).toBe('gateway_mode_unset');
  });

  it('a --token override: the host probe is auth-rejected while the gateway holds the port', () => {
    const gs = parseGatewayStatus(real('gateway-status-token-override.json'))!;
    expect(gs.probeOk).toBe(false);
    expect(gs.probeAuthRejected).toBe(true);
    expect(gs.portStatus).toBe('busy');
  });

  it('a port held by a program of the same user is named with its pid', () => {
    const gs = parseGatewayStatus(real('gateway-status-port-conflict.json'))!;
    expect(gs.probeForeignHttp).toBe(true);
    expect(gs.portListeners[0]).toMatchObject({ process: expect.stringMatching(/python3/) });
    expect(gs.portListeners[0]!.pid).toBeGreaterThan(1);
  });

  it('file-log rejections from the real gateway on a non-default port are parsed', () => {
    const events = parseLog(real('log-wrong-token.jsonl'));
    const rejected = events.filter((e) => e.kind === 'unauthorized');
    expect(rejected).toHaveLength(4);
    expect(rejected[0]).toMatchObject({ reason: 'token_mismatch' });
  });
});
