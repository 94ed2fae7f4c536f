import { describe, expect, it } from 'vitest';
import {
  buildDockerVersionScript,
  buildLightProbeScript,
  parseDockerVersion,
  decodeProcNetAddress,
  decideLightProbe,
  parseProcNetListeners,
  isGatewayHealthBody,
  parseLightProbe,
  sanitizeCliProbeError,
} from '../../../src/openclaw/light-probe.js';
import { probeFamily } from '../../../src/jobs/probe.js';
import { validHint } from '../../../src/openclaw/light-probe-bash.js';
import { parseGatewayStatusJson } from '../../../src/openclaw/parse-gateway-status.js';
import { fx, nativeHost, section } from './helpers.js';

const SS_GATEWAY = fx('derived/ss-gateway.txt');
const SS_PYTHON = fx('derived/ss-python-port-conflict.txt');
const SS_HIDDEN = fx('derived/ss-owner-hidden.txt');
const SS_NOTHING = fx('derived/ss-nothing.txt');
const MEMINFO = 'MemTotal:        2014256 kB\nMemAvailable:     611220 kB\n';
const HTML = fx('derived/http-server-directory-listing.html').trim();

/** The light probe's output as a host prints it (sections as the script writes them). */
function output(p: { ss?: string; ssRc?: number; via?: string; rc?: number; code?: string; body?: string; pidStatus?: string; version?: string }): string {
  const hz = p.via === 'none' ? 'via=none\nbody:\n' : `via=${p.via ?? 'curl'}\nrc=${p.rc ?? 0}\ncode=${p.code ?? ''}\nbody:\n${p.body ?? ''}`;
  return [
    section('listeners', p.ss ?? SS_GATEWAY, p.ssRc ?? 0),
    section('healthz', hz),
    p.pidStatus ? section('gateway_memory', p.pidStatus) : section('gateway_memory', '', 1),
    section('host_memory', MEMINFO),
    p.version ? section('version', p.version) : '',
  ].join('');
}

const host = nativeHost();
const decide = (o: string, h = host) => decideLightProbe(h, parseLightProbe(o, h.gateway.port));

describe('light probe script', () => {
  it('quotes every inventory value and never uses curl -w @file', () => {
    const s = buildLightProbeScript(nativeHost({ openclaw: { bin: "/opt/o'claw/bin/openclaw" } }));
    expect(s).toContain("_cm_nm='/opt/o'\\''claw/bin/openclaw'; _cm_b=$(command -v \"$_cm_nm\"");
    expect(s).toContain('http://127.0.0.1:18789/healthz');
    expect(s).toMatch(/curl -s --max-time 2 -w '_CM_HTTP_CODE_=%\{http_code\}'/);
    expect(s).not.toMatch(/-w '?@/);
    expect(s).toMatch(/_cm_to 3 curl/);
    expect(s).toMatch(/_cm_to 3 wget -q -O - -T 2/);
    expect(s).not.toContain('openclaw gateway status');
  });

  it('refuses a port that is not a port', () => {
    expect(() => buildLightProbeScript(nativeHost({ gateway: { port: 0 } }))).toThrow(/invalid gateway port/);
  });

  it('docker installs: no version from a host package.json (the CLI lives in the container)', () => {
    expect(buildLightProbeScript(nativeHost({ install: 'docker', container: 'openclaw' }))).not.toContain('section=version');
  });
});

describe('docker version script (run once per container, not per probe)', () => {
  const dock = nativeHost({ install: 'docker', container: "oc'; rm -rf /" });
  it('runs the package.json search in the container with sh (never the openclaw CLI), the container name quoted', () => {
    const s = buildDockerVersionScript(dock);
    expect(s).toContain(`docker exec -- 'oc'\\''; rm -rf /' sh -c `);
    expect(s).toContain(`docker inspect -f '{{.Config.Image}}|{{index .Config.Labels "org.opencontainers.image.version"}}' -- 'oc'\\''; rm -rf /'`);
    expect(s).not.toMatch(/openclaw'? (--version|gateway)/);
    // The image is asked only when the container did not answer.
    expect(s).toMatch(/if \[ "\$_cm_rc" != 0 \]; then .*docker inspect/);
  });

  it('needs a container name', () => {
    expect(() => buildDockerVersionScript(nativeHost({ install: 'docker' }))).toThrow(/without a container/);
  });

  it('reads the version from the container, else the OCI label, else a version-shaped tag; never a non-version', () => {
    expect(parseDockerVersion(section('docker_version', '2026.9.6\n'))).toEqual({ version: '2026.9.6', source: 'package' });
    const failed = section('docker_version', '', 1);
    expect(parseDockerVersion(failed + section('docker_image', 'ghcr.io/acme/openclaw:local|2026.10.1\n'))).toEqual({ version: '2026.10.1', source: 'image', image: 'ghcr.io/acme/openclaw:local' });
    expect(parseDockerVersion(failed + section('docker_image', 'registry:5000/openclaw:v2026.9.6|\n'))).toMatchObject({ version: '2026.9.6', source: 'image' });
    expect(parseDockerVersion(failed + section('docker_image', 'openclaw:local|\n'))).toEqual({ image: 'openclaw:local' });
    // Something else printed by the container (an error, a page) is not a version.
    expect(parseDockerVersion(section('docker_version', 'sh: readlink: not found\n') + section('docker_image', 'openclaw:latest|\n'))).toEqual({ image: 'openclaw:latest' });
    expect(parseDockerVersion(section('docker_version', '2026.9.6; rm -rf /\n') + failed)).toEqual({});
    expect(parseDockerVersion('')).toEqual({});
  });
});

describe('light probe: what it concludes', () => {
  it('gateway answers /healthz with the real 2026.9.6 body → up, with its RSS and the host memory', () => {
    const o = output({ code: '200', body: fx('healthz-up.json').trim(), pidStatus: 'pid=21774\nName:\topenclaw-gatewa\nVmHWM:\t  801234 kB\nVmRSS:\t  699000 kB', version: '2026.9.6' });
    const p = parseLightProbe(o, 18789);
    expect(p.version).toBe('2026.9.6');
    expect(p.gatewayPid).toBe(21774);
    expect(p.hostMemory).toEqual({ totalMb: 1967, availableMb: 597, usedPercent: 69.7 });
    const v = decideLightProbe(host, p);
    expect(v).toEqual({ probeOk: true, listening: '127.0.0.1:18789', gatewayRssMb: 682.6, memoryUsedPct: 70 });
  });

  it('a Node 24 program on the port shows as MainThread (its main thread name): it is named by its program, argv[0] only', () => {
    const ss = 'State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\nLISTEN 0 511 127.0.0.1:18789 0.0.0.0:* users:(("MainThread",pid=4242,fd=21))\n';
    const o = output({ ss, code: '200', body: '<html>hello</html>', pidStatus: 'pid=4242\nName:\tMainThread\nVmRSS:\t  51000 kB\nargv0=/usr/local/bin/node' });
    const p = parseLightProbe(o, 18789);
    expect(p.listeners?.[0]?.process).toBe('node');
    const v = decideLightProbe(host, p);
    expect(v.probeError).toMatch(/held by node \(pid 4242\)/);
    expect(v.probeError).not.toMatch(/MainThread/);
  });

  it('2026.4.29 answers the same and is up', () => {
    expect(decide(output({ code: '200', body: fx('2026.4/healthz-up.json').trim() })).probeOk).toBe(true);
  });

  it('a port held by another program answering HTTP 200 is a port conflict, never healthy, and its page is not copied', () => {
    const v = decide(output({ ss: SS_PYTHON, code: '200', body: HTML }));
    expect(v.fallback).toBeUndefined();
    expect(v.probeOk).toBe(false);
    expect(v.portConflict).toBe(true);
    expect(v.probeError).toBe('port 18789 answered HTTP 200 but not as an OpenClaw gateway: it is held by python3 (pid 26892), not by the OpenClaw gateway');
    expect(v.probeError).not.toMatch(/<|Directory listing/);
    expect(probeFamily({ reachable: true, ...v })).toBe('port_conflict');
  });

  it('a foreign listener that never answers is a port conflict too (after the deadline)', () => {
    const v = decide(output({ ss: SS_PYTHON, rc: 28, code: '000' }));
    expect(v.portConflict).toBe(true);
    expect(v.probeError).toContain('did not answer GET /healthz within 2 s');
  });

  it('nothing listens and the connection is refused → gateway down, no CLI needed', () => {
    const v = decide(output({ ss: SS_NOTHING, rc: 7, code: '000' }));
    expect(v.fallback).toBeUndefined();
    expect(v.probeError).toBe('nothing listens on port 18789 (connect ECONNREFUSED 127.0.0.1:18789)');
    expect(probeFamily({ reachable: true, ...v })).toBe('gateway_down');
  });

  it('a hung listener: curl gives up at its deadline (28) or the outer timeout kills it (124) → not answering, gateway_down', () => {
    for (const rc of [28, 124]) {
      const v = decide(output({ rc, code: rc === 28 ? '000' : '' }));
      expect(v.fallback).toBeUndefined();
      expect(v.probeOk).toBe(false);
      expect(v.probeError).toContain('did not answer GET /healthz within 2 s');
      expect(probeFamily({ reachable: true, ...v })).toBe('gateway_down');
    }
  });

  it('falls back to the CLI when /healthz cannot tell', () => {
    // 404 (another build or path), from the gateway's own process.
    expect(decide(output({ code: '404', body: 'Not Found' })).fallback).toBe('port 18789 answered HTTP 404 but not as an OpenClaw gateway on /healthz');
    // A 200 that is not the gateway's JSON with no visible owner (a proxy in front, another user's process).
    expect(decide(output({ ss: SS_HIDDEN, code: '200', body: HTML })).fallback).toMatch(/answered HTTP 200 but not as an OpenClaw gateway/);
    // Refused while something listens (a gateway bound to another address, or a foreign owner).
    expect(decide(output({ rc: 7, code: '000' })).fallback).toMatch(/refused the connection while openclaw-gatewa \(pid 21774\) listens on 127\.0\.0\.1:18789/);
    expect(decide(output({ ss: SS_PYTHON, rc: 7, code: '000' })).fallback).toMatch(/while python3 \(pid 26892\) listens/);
    // No curl, no wget.
    expect(decide(output({ via: 'none' })).fallback).toBe('no curl or wget on the host');
    // ss missing: a refused connection alone does not say the gateway is down.
    expect(decide(output({ ss: 'sh: ss: not found', ssRc: 127, rc: 7, code: '000' })).fallback).toBe('ss could not list the listeners');
    // A docker gateway may be published without a host listener ss can show.
    expect(decide(output({ ss: SS_NOTHING, rc: 7, code: '000' }), nativeHost({ install: 'docker', container: 'openclaw' })).fallback).toBeDefined();
  });

  it('wget (no curl): exit 0 = answered 200, 8 = an HTTP error status, 4 = no connection', () => {
    expect(decide(output({ via: 'wget', rc: 0, body: fx('healthz-up.json').trim() })).probeOk).toBe(true);
    expect(decide(output({ via: 'wget', rc: 8 })).fallback).toMatch(/answered HTTP \(an error status\)/);
    expect(decide(output({ ss: SS_NOTHING, via: 'wget', rc: 4 })).probeError).toMatch(/nothing listens/);
  });

  it('the healthz body must be the gateway shape: {ok: boolean, status: string}', () => {
    expect(isGatewayHealthBody('{"ok":true,"status":"live"}')).toEqual({ gateway: true, live: true, status: 'live' });
    expect(isGatewayHealthBody('{"ok":false,"status":"starting"}')).toEqual({ gateway: true, live: false, status: 'starting' });
    expect(isGatewayHealthBody('{"status":"UP"}').gateway).toBe(false); // a Spring-style proxy health
    expect(isGatewayHealthBody('OK').gateway).toBe(false);
    expect(isGatewayHealthBody(HTML).gateway).toBe(false);
  });

  it('a forged section marker in a foreign body cannot add sections (the script replaces @)', () => {
    const s = buildLightProbeScript(host);
    expect(s).toContain("| tr '@' '?'");
  });

  it('gateway RSS only for the gateway itself, never for a foreign owner or docker-proxy', () => {
    const foreign = decide(output({ ss: SS_PYTHON, code: '200', body: HTML, pidStatus: 'pid=26892\nName:\tpython3\nVmRSS:\t 20000 kB' }));
    expect(foreign.gatewayRssMb).toBeUndefined();
  });
});

describe('CLI fallback probe error', () => {
  it('the real port-conflict status carries a whole HTML page: it becomes one line naming the port', () => {
    const gs = parseGatewayStatusJson(fx('gateway-status-port-conflict.json'))!;
    expect(gs.probeError).toContain('<html');
    const e = sanitizeCliProbeError(gs.probeError, 18789);
    expect(e).toEqual({ text: 'port 18789 answered HTTP 200 but not as an OpenClaw gateway', foreignHttp: true });
    expect(probeFamily({ reachable: true, probeOk: false, probeError: e.text, portConflict: e.foreignHttp })).toBe('port_conflict');
  });

  it('a token mismatch from the CLI keeps its text (the monitor still classifies it)', () => {
    const gs = parseGatewayStatusJson(fx('gateway-status-token-mismatch.json'))!;
    const e = sanitizeCliProbeError(gs.probeError, 18789);
    expect(e.text).toMatch(/unauthorized: gateway token mismatch/);
    expect(probeFamily({ reachable: true, probeOk: false, probeError: e.text })).toBe('token_mismatch');
  });
});

describe('light probe fast path: /proc/net/tcp{,6} and the owner hint', () => {
  it('decodes the kernel\'s little-endian addresses as ss prints them', () => {
    expect(decodeProcNetAddress('0100007F:4965')).toBe('127.0.0.1:18789');
    expect(decodeProcNetAddress('00000000:4965')).toBe('0.0.0.0:18789');
    expect(decodeProcNetAddress('00000000000000000000000001000000:4965')).toBe('[::1]:18789');
    expect(decodeProcNetAddress('00000000000000000000000000000000:4965')).toBe('[::]:18789');
    expect(decodeProcNetAddress('0000000000000000FFFF00000100007F:4965')).toBe('[::ffff:127.0.0.1]:18789');
    expect(decodeProcNetAddress('not-an-address')).toBeUndefined();
  });

  it('sockets + owner lines → listeners with pid, fd and process; an unchecked socket has no owner', () => {
    const sockets = '0100007F:4965 23373 1000 00000000:00000000\n00000000000000000000000001000000:4965 23380 1000 00000000:00000000\n';
    const l = parseProcNetListeners(sockets, '23373 21774 23 openclaw-gatewa\n', 18789);
    expect(l).toEqual([
      { address: '127.0.0.1:18789', port: 18789, process: 'openclaw-gatewa', pid: 21774, fd: 23 },
      { address: '[::1]:18789', port: 18789 },
    ]);
    const out = [section('sockets', sockets), section('owner', '23373 21774 23 openclaw-gatewa\n23380 21774 24 openclaw-gatewa\n'), section('healthz', `via=bash\nrc=0\ncode=200\nbody:\n${fx('healthz-up.json').trim()}`), section('gateway_memory', 'pid=21774\nName:\topenclaw-gatewa\nVmRSS:\t  699000 kB'), section('host_memory', MEMINFO)].join('');
    const p = parseLightProbe(out, 18789);
    expect(p.listeners?.map((x) => x.fd)).toEqual([23, 24]);
    expect(decideLightProbe(host, p)).toMatchObject({ probeOk: true, listening: '127.0.0.1:18789', gatewayRssMb: 682.6 });
  });

  it('ss, when it ran, is what names the owners (the hint did not)', () => {
    const out = [section('sockets', '0100007F:4965 23373 0 00000000:00000000\n'), section('owner', ''), section('listeners', SS_PYTHON), section('healthz', `via=bash\nrc=0\ncode=200\nbody:\n${HTML}`)].join('');
    const v = decide(out);
    expect(v).toMatchObject({ probeOk: false, portConflict: true });
    expect(v.probeError).toContain('held by python3 (pid 26892)');
  });

  it('the bash GET reuses curl\'s codes: 7 refused, 28 no answer in 2 s, 124 total deadline (or a full accept queue)', () => {
    const hz = (rc: number) => output({ via: 'bash', rc, code: '', body: '', ss: fx('derived/ss-nothing.txt') });
    expect(parseLightProbe(hz(7), 18789).healthz.outcome).toBe('refused');
    expect(parseLightProbe(hz(28), 18789).healthz.outcome).toBe('timeout');
    expect(parseLightProbe(hz(124), 18789).healthz.outcome).toBe('timeout');
    expect(parseLightProbe(hz(52), 18789).healthz.outcome).toBe('failed');
  });

  it('a hint is only ever numbers pasted into the script', () => {
    expect(validHint({ pid: 21774, fds: [23, 23, 24] })).toEqual({ pid: 21774, fds: [23, 24] });
    expect(validHint({ pid: 1, fds: [3] })).toBeUndefined();
    expect(validHint({ pid: 1.5, fds: [3] })).toBeUndefined();
    expect(validHint({ pid: 99, fds: [Number.NaN] })).toBeUndefined();
    const s = buildLightProbeScript(host, { hint: { pid: 21774, fds: [23] } });
    expect(s).toContain('/proc/21774/fdinfo/$_cm_d');
    expect(buildLightProbeScript(host)).not.toContain('fdinfo');
  });
});
