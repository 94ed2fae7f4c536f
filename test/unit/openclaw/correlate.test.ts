import { describe, expect, it } from 'vitest';
import { classifyClient, correlate } from '../../../src/openclaw/correlate.js';
import { parseLog } from '../../../src/openclaw/log-parser.js';
import { shiftTimestamps } from '../../support/host-standin/index.js';
import { fx, fxLines } from './helpers.js';

describe('correlate: the two real 4008 forms', () => {
  it('closed before connect … code=4008 joins the unauthorized line of the same conn (2026.9 text)', () => {
    // Sample: log-wrong-token.stdout.txt (2 connects, one tab)
    const c = correlate(parseLog(fx('log-wrong-token.stdout.txt')));
    expect(c.failures).toHaveLength(2);
    const f = c.failures[0]!;
    expect(f.form).toBe('closed_before_connect');
    expect(f.code).toBe(4008);
    expect(f.closeReason).toBe('connect failed');
    expect(f.joined).toBe(true);
    expect(f.authReason).toBe('token_mismatch');
    expect(f.kind).toBe('control_ui');
    expect(f.clientKey).toBe('http://127.0.0.1:18789|webchat-ui');
    expect(c.clients).toHaveLength(1);
    expect(c.reasons).toEqual({ token_mismatch: 2 });
  });

  it('2026.4 stdout has no authReason on the close line: the reason comes from the join', () => {
    // Sample: 2026.4/log-wrong-token.stdout.txt
    const c = correlate(parseLog(fx('2026.4/log-wrong-token.stdout.txt')));
    expect(c.failures.map((f) => [f.joined, f.authReason, f.kind])).toEqual([
      [true, 'token_mismatch', 'control_ui'],
      [true, 'token_mismatch', 'control_ui'],
    ]);
  });

  it('[ws] webchat disconnected code=4008 reason=connect failed joins the webchat connected line', () => {
    // Derived: log-webchat-disconnected-4008.stdout.txt (real connected line, close code 1000 → 4008)
    const c = correlate(parseLog(fx('derived/log-webchat-disconnected-4008.stdout.txt')));
    expect(c.failures).toHaveLength(1);
    const f = c.failures[0]!;
    expect(f.form).toBe('webchat_disconnected');
    expect(f.joined).toBe(true);
    expect(f.client.id).toBe('webchat-ui');
    expect(f.remote).toBe('127.0.0.1');
    expect(f.kind).toBe('control_ui');
  });

  it('a 4008 without the gateway line is kept but not joined', () => {
    const line = fx('log-wrong-token.stdout.txt').split('\n')[1]!;
    const c = correlate(parseLog(line.replace(' authReason=token_mismatch', '')));
    expect(c.failures[0]!.joined).toBe(false);
    expect(c.failures[0]!.authReason).toBeUndefined();
  });
});

describe('correlate: noise', () => {
  it('ignores CLI probe 1008s, 1013 gateway starting and internal channel token_mismatch', () => {
    const evs = parseLog(
      fxLines(
        'log-host-cli-probe-wrong-token.stdout.txt',
        'derived/log-gateway-starting-1013.stdout.txt',
        'derived/log-internal-token-mismatch.stdout.txt',
      ),
    );
    const c = correlate(evs);
    expect(c.failures).toEqual([]);
    expect(c.clients).toEqual([]);
    expect(c.benign.map((b) => b.benignWhy).sort()).toEqual(['CLI probe', 'gateway starting (1013)', 'internal channel status check']);
  });

  it('classifies clients', () => {
    expect(classifyClient({ id: 'webchat-ui', mode: 'webchat' })).toBe('control_ui');
    expect(classifyClient({ id: 'openclaw-control-ui', mode: 'ui' })).toBe('control_ui');
    expect(classifyClient({ id: 'cli', mode: 'probe' })).toBe('cli');
    expect(classifyClient({ id: 'gateway-client', mode: 'backend' })).toBe('internal');
    expect(classifyClient({ id: 'openclaw-ios', mode: 'node' })).toBe('node');
    expect(classifyClient({}, 'http://localhost:18789')).toBe('control_ui');
    expect(classifyClient({})).toBe('unknown');
  });
});

describe('correlate: signatures', () => {
  it('token rotation: 4001 gateway auth changed, then token_mismatch 4008s', () => {
    // Sample: log-token-rotated-while-connected.jsonl
    const c = correlate(parseLog(fx('log-token-rotated-while-connected.jsonl')));
    expect(c.rotation).toBeDefined();
    expect(c.rotation!.disconnected).toBe(1);
    expect(c.rotation!.failuresAfter).toBe(4);
    expect(c.rotation!.time).toBe('2026-11-25T15:03:05.128+00:00');
    expect(c.clients).toHaveLength(1);
    expect(c.clients[0]!.looping).toBe(false); // 4 failures in 4.5 s: a burst, not yet the 15 s loop
  });

  it('stale tab loop: one client, failures at backoff cadence up to 15 s', () => {
    // Sample: log-stale-tab-loop.stdout.txt (125 s of one tab)
    const c = correlate(parseLog(fx('log-stale-tab-loop.stdout.txt')));
    expect(c.rotation).toBeUndefined();
    expect(c.clients).toHaveLength(1);
    const cl = c.clients[0]!;
    expect(cl.failures).toBe(14);
    expect(cl.origin).toBe('http://localhost:18789');
    expect(cl.looping).toBe(true);
    expect(cl.maxGapSec).toBeGreaterThan(14);
    expect(cl.maxGapSec).toBeLessThan(16);
    expect(c.staleLoop?.key).toBe(cl.key);
  });

  it('rate limiting: token_mismatch switches to rate_limited for the same Origin', () => {
    // Sample: log-rate-limited.jsonl (attempts 9-13)
    const c = correlate(parseLog(fx('log-rate-limited.jsonl')));
    expect(c.reasons).toEqual({ token_mismatch: 2, rate_limited: 3 });
    expect(c.rateLimited).toHaveLength(1);
    expect(c.rateLimited[0]!.origin).toBe('http://127.0.0.1:18789');
  });

  it('counts distinct clients by origin + client id (two real captures concatenated)', () => {
    const c = correlate(parseLog(fxLines('log-wrong-token.jsonl', 'log-stale-tab-loop.jsonl')));
    expect(c.clients.map((x) => x.key).sort()).toEqual(['http://127.0.0.1:18789|webchat-ui', 'http://localhost:18789|webchat-ui']);
    expect(c.staleLoop?.origin).toBe('http://localhost:18789');
  });

  it('auto-restore followed by token failures', () => {
    const c = correlate(parseLog(fxLines('log-mode-unset-autorestored.jsonl', 'log-stale-tab-loop.jsonl')));
    expect(c.autoRestore?.reason).toBe('gateway-mode-missing-vs-last-good');
    expect(c.autoRestore?.failuresAfter).toBe(0); // the sample's restore (15:23) is later than that tab (15:04)
    // Real lines, times moved: the wrong-token connects 1 min after the restore.
    const restoreMs = Date.parse('2026-11-25T15:23:03.210Z');
    const wrong = shiftTimestamps(fx('log-wrong-token.jsonl').trim().split('\n'), restoreMs + 60_000).join('\n');
    const c2 = correlate(parseLog(`${fx('log-mode-unset-autorestored.jsonl')}${wrong}`));
    expect(c2.autoRestore?.failuresAfter).toBe(1);
  });

  it('sinceMs drops older events', () => {
    const evs = parseLog(fx('log-stale-tab-loop.stdout.txt'));
    const c = correlate(evs, { sinceMs: Date.parse('2026-11-25T15:05:30Z') });
    expect(c.failures).toHaveLength(4);
  });
});
