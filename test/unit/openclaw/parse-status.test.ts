import { describe, expect, it } from 'vitest';
import {
  parseGatewayStatus,
  parseGatewayStatusJson,
  parseGatewayStatusText,
} from '../../../src/openclaw/parse-gateway-status.js';
import { isOpenClawProcess, parseSs } from '../../../src/openclaw/parse-ss.js';
import { parseDockerStats, parseFree } from '../../../src/openclaw/parse-free.js';
import { fx } from './helpers.js';

describe('gateway status --json, 2026.9.6', () => {
  it('up: probe ok, our listener, versions, log file', () => {
    // Sample: gateway-status-up.json
    const s = parseGatewayStatusJson(fx('gateway-status-up.json'))!;
    expect(s.probeOk).toBe(true);
    expect(s.probeFailureKind).toBeUndefined();
    expect(s.cliVersion).toBe('2026.9.6');
    expect(s.gatewayVersion).toBe('2026.9.6');
    expect(s.logFile).toBe('/tmp/openclaw/openclaw-2026-11-25.log');
    expect(s.probeUrl).toBe('ws://127.0.0.1:18789');
    expect(s.port).toBe(18789);
    expect(s.portStatus).toBe('busy');
    expect(s.portListeners).toEqual([
      { address: '127.0.0.1:18789', port: 18789, process: 'openclaw-gatewa', pid: 21774, user: 'claw', commandLine: 'openclaw-gateway' },
    ]);
    expect(s.configCliPath).toBe('/home/claw/.openclaw/openclaw.json');
    expect(s.serviceLabel).toBe('no supported service manager detected');
    expect(s.serviceTokenOverride).toBe(false);
  });

  it('down and after kill -9 look the same: refused, port free', () => {
    for (const f of ['gateway-status-down.json', 'gateway-status-after-crash.json']) {
      const s = parseGatewayStatusJson(fx(f))!;
      expect(s.probeOk).toBe(false);
      expect(s.probeRefused).toBe(true);
      expect(s.probeFailureKind).toBe('unreachable');
      expect(s.portStatus).toBe('free');
      expect(s.portListeners).toEqual([]);
    }
  });

  it('token mismatch: connectFailure auth-rejected + detail code', () => {
    const s = parseGatewayStatusJson(fx('gateway-status-token-mismatch.json'))!;
    expect(s.probeOk).toBe(false);
    expect(s.probeAuthRejected).toBe(true);
    expect(s.probeFailureKind).toBe('auth-rejected');
    expect(s.probeDetailCode).toBe('AUTH_TOKEN_MISMATCH');
    expect(s.probeError).toBe('unauthorized: gateway token mismatch (provide gateway auth token)');
  });

  it('port conflict: foreign HTTP answer, python3 listener, hint', () => {
    const s = parseGatewayStatusJson(fx('gateway-status-port-conflict.json'))!;
    expect(s.probeForeignHttp).toBe(true);
    expect(s.probeRefused).toBe(false);
    expect(s.portListeners[0]).toMatchObject({ pid: 26892, process: 'python3', commandLine: '/usr/bin/python3 -m http.server 18789 --bind 127.0.0.1' });
    expect(s.portHints).toEqual(['Another process is listening on this port.']);
  });

  it('tolerates warnings printed before the JSON', () => {
    const s = parseGatewayStatusJson(`(node:1) ExperimentalWarning: x\n${fx('gateway-status-up.json')}`);
    expect(s?.probeOk).toBe(true);
    expect(parseGatewayStatusJson('not json at all')).toBeNull();
  });
});

describe('gateway status --json, 2026.4.29 (no connectFailure)', () => {
  it('up, with the process named openclaw and the per-uid log path', () => {
    // Sample: 2026.4/gateway-status-up.json
    const s = parseGatewayStatusJson(fx('2026.4/gateway-status-up.json'))!;
    expect(s.probeOk).toBe(true);
    expect(s.logFile).toBe('/tmp/openclaw-1003/openclaw-2026-11-25.log');
    expect(s.port).toBe(18790);
    expect(s.portListeners[0]).toMatchObject({ process: 'openclaw', pid: 30195 });
    expect(s.cliVersion).toBeUndefined();
  });

  it('token mismatch only in rpc.error text', () => {
    const s = parseGatewayStatusJson(fx('2026.4/gateway-status-token-mismatch.json'))!;
    expect(s.probeOk).toBe(false);
    expect(s.probeDetailCode).toBeUndefined();
    expect(s.probeAuthRejected).toBe(true);
    expect(s.probeFailureKind).toBe('auth-rejected');
  });

  it('down: refused', () => {
    const s = parseGatewayStatusJson(fx('2026.4/gateway-status-down.json'))!;
    expect(s.probeRefused).toBe(true);
    expect(s.probeFailureKind).toBe('unreachable');
    expect(s.portStatus).toBe('free');
  });
});

describe('gateway status text form', () => {
  it('2026.9 up / down / token mismatch / port conflict', () => {
    const up = parseGatewayStatusText(fx('gateway-status-up.txt'))!;
    expect([up.probeOk, up.cliVersion, up.gatewayVersion, up.port, up.logFile]).toEqual([true, '2026.9.6', '2026.9.6', 18789, '/tmp/openclaw/openclaw-2026-11-25.log']);
    expect(up.portStatus).toBe('busy');
    const down = parseGatewayStatusText(fx('gateway-status-down.txt'))!;
    expect([down.probeOk, down.probeRefused, down.probeError]).toEqual([false, true, 'connect ECONNREFUSED 127.0.0.1:18789']);
    const tm = parseGatewayStatusText(fx('gateway-status-token-mismatch.txt'))!;
    expect(tm.probeAuthRejected).toBe(true);
    expect(tm.portListeners[0]).toMatchObject({ pid: 21774, user: 'claw', commandLine: 'openclaw-gateway', address: '127.0.0.1:18789' });
    const pc = parseGatewayStatusText(fx('gateway-status-port-conflict.txt'))!;
    expect(pc.probeForeignHttp).toBe(true);
    expect(pc.portListeners[0]).toMatchObject({ pid: 26892, process: 'python3', port: 18789 });
    expect(pc.portHints).toContain('Another process is listening on this port.');
  });

  it('2026.4 up (systemd disabled wording)', () => {
    const s = parseGatewayStatusText(fx('2026.4/gateway-status-up.txt'))!;
    expect(s.probeOk).toBe(true);
    expect(s.port).toBe(18790);
    expect(s.serviceLabel).toBe('systemd (disabled)');
  });

  it('parseGatewayStatus picks the form', () => {
    expect(parseGatewayStatus(fx('gateway-status-up.json'))?.format).toBe('json');
    expect(parseGatewayStatus(fx('gateway-status-up.txt'))?.format).toBe('text');
    expect(parseGatewayStatus('openclaw: command not found')).toBeNull();
  });
});

describe('ss -tlnp', () => {
  it('names the 2026.9 (truncated) and 2026.4 process titles', () => {
    const a = parseSs(fx('derived/ss-gateway.txt'), 18789);
    expect(a).toEqual([{ address: '127.0.0.1:18789', port: 18789, process: 'openclaw-gatewa', pid: 21774, fd: 23 }]);
    expect(isOpenClawProcess(a[0]!)).toBe(true);
    const b = parseSs(fx('derived/ss-gateway-2026.4.txt'), 18790);
    expect(b[0]).toMatchObject({ process: 'openclaw', pid: 30195 });
    expect(isOpenClawProcess(b[0]!)).toBe(true);
  });

  it('a foreign owner, a hidden owner, other ports, IPv6', () => {
    const py = parseSs(fx('derived/ss-python-port-conflict.txt'), 18789)[0]!;
    expect(isOpenClawProcess(py)).toBe(false);
    expect(parseSs(fx('derived/ss-owner-hidden.txt'), 18789)).toEqual([{ address: '127.0.0.1:18789', port: 18789 }]);
    expect(parseSs(fx('derived/ss-gateway.txt'), 6379)).toEqual([]);
    const v6 = parseSs('LISTEN 0 511 [::1]:18789 [::]:* users:(("node",pid=9,fd=3),("node",pid=10,fd=3))', 18789);
    expect(v6).toEqual([{ address: '[::1]:18789', port: 18789, process: 'node', pid: 9, fd: 3 }]);
  });
});

describe('memory', () => {
  it('free -m: used percent from available', () => {
    const ok = parseFree(fx('derived/free-2g-ok.txt'))!;
    expect(ok.totalMb).toBe(1967);
    expect(ok.usedPercent).toBeCloseTo(44.9, 1);
    const hi = parseFree(fx('derived/free-2g-pressure.txt'))!;
    expect(hi.usedPercent).toBeGreaterThan(90);
    expect(parseFree('free: command not found')).toBeNull();
  });

  it('docker stats line', () => {
    const m = parseDockerStats(fx('derived/docker-stats-ok.txt'))!;
    expect(m.usedPercent).toBe(41.6);
    expect(m.usedMb).toBeCloseTo(812.4, 1);
    expect(m.totalMb).toBeCloseTo(1951.7, 0);
  });
});
