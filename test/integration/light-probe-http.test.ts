/**
 * The light probe script run by dash with the machine's real curl / wget / ss against real listeners
 * on a free loopback port: a server answering like the gateway's /healthz, a foreign page, a 404, a
 * listener that never answers, nothing at all. The stand-in's curl only imitates these; this checks
 * the real tools' flags, exit codes and deadlines the parser relies on.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { HostConfig } from '../../src/domain/host.js';
import { buildLightProbeScript, decideLightProbe, parseLightProbe } from '../../src/openclaw/light-probe.js';
import { freePort } from '../support/free-port.js';

const which = (b: string) => spawnSync('sh', ['-c', `command -v ${b}`], { encoding: 'utf8' }).stdout.trim();
const HAVE = { curl: which('curl'), wget: which('wget'), dash: which('dash'), ss: which('ss') };

function hostOn(port: number): HostConfig {
  return {
    name: 'local',
    ssh: { host: '127.0.0.1', port: 22, user: 'x', hostKeyFingerprint: 'SHA256:x' },
    install: 'native',
    supervisor: { kind: 'commands', start: 'true', stop: 'true' },
    openclaw: { bin: 'openclaw-not-installed-here' },
    gateway: { port },
    allowKillPortOwner: false,
    autoFix: false,
  };
}

/** A PATH holding only the tools the script needs, optionally without curl. */
const tmp = mkdtempSync(path.join(tmpdir(), 'clawmedic-lp-'));
function pathWithout(skip: string[]): string {
  const dir = path.join(tmp, `bin-${skip.join('-') || 'all'}`);
  spawnSync('mkdir', ['-p', dir]);
  for (const b of ['ss', 'grep', 'sed', 'head', 'tr', 'timeout', 'curl', 'wget', 'readlink', 'cat', 'sleep']) {
    if (skip.includes(b)) continue;
    const p = which(b);
    if (p) {
      try {
        symlinkSync(p, path.join(dir, b));
      } catch {
        // already linked
      }
    }
  }
  return dir;
}

function runProbe(port: number, skip: string[] = []): Promise<{ out: string; ms: number }> {
  const script = buildLightProbeScript(hostOn(port));
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(HAVE.dash || 'sh', ['-c', script], { env: { PATH: pathWithout(skip) } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve({ out, ms: Date.now() - t0 }));
  });
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function serve(handler: http.RequestListener): Promise<number> {
  const port = await freePort();
  const srv = http.createServer(handler);
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
  closers.push(() => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); }));
  return port;
}

const GATEWAY: http.RequestListener = (req, res) => {
  if (req.url === '/healthz' || req.url === '/health') {
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true,"status":"live"}');
  } else res.end('<!doctype html><html><title>OpenClaw Control</title></html>');
};

describe.skipIf(!HAVE.curl || !HAVE.ss)('light probe script with the real curl, wget and ss', () => {
  it('a gateway-like /healthz → up, with the RSS of the process ss names on the port (this test process)', async () => {
    const port = await serve(GATEWAY);
    const { out } = await runProbe(port);
    const p = parseLightProbe(out, port);
    expect(p.healthz).toMatchObject({ via: 'curl', outcome: 'answered', code: 200 });
    expect(p.healthz.body).toBe('{"ok":true,"status":"live"}');
    expect(p.listeners?.[0]).toMatchObject({ address: `127.0.0.1:${port}`, pid: process.pid });
    expect(p.gatewayPid).toBe(process.pid);
    expect(p.gatewayRssMb).toBeGreaterThan(10);
    expect(p.hostMemory?.totalMb).toBeGreaterThan(0);
    // This process is node, not openclaw: a live /healthz is trusted, its RSS is not reported as the gateway's.
    const v = decideLightProbe(hostOn(port), p);
    expect(v.probeOk).toBe(true);
    expect(v.gatewayRssMb).toBeUndefined();
  });

  it('a foreign page with HTTP 200 from a visible owner → port conflict, the page cut to 512 bytes and its @ defused', async () => {
    const page = `<html>${'@@CLAWMEDIC section=host_memory\nMemTotal: 1 kB\n'.repeat(40)}</html>`;
    const port = await serve((_q, r) => r.end(page));
    const { out } = await runProbe(port);
    expect(out).not.toContain('@@CLAWMEDIC section=host_memory\nMemTotal: 1 kB');
    const p = parseLightProbe(out, port);
    expect(p.healthz.body.length).toBeLessThanOrEqual(512);
    expect(p.hostMemory?.totalMb).toBeGreaterThan(1);
    const v = decideLightProbe(hostOn(port), p);
    expect(v).toMatchObject({ probeOk: false, portConflict: true });
    expect(v.probeError).toMatch(new RegExp(`held by node \\(pid ${process.pid}\\)`));
  });

  it('HTTP 404 from a visible program that is not OpenClaw → port conflict (the CLI would only say the same)', async () => {
    const port = await serve((_q, r) => {
      r.statusCode = 404;
      r.end('Not Found');
    });
    const p = parseLightProbe((await runProbe(port)).out, port);
    expect(p.healthz).toMatchObject({ outcome: 'answered', code: 404 });
    const v = decideLightProbe(hostOn(port), p);
    expect(v.fallback).toBeUndefined();
    expect(v.probeError).toContain('answered HTTP 404 but not as an OpenClaw gateway: it is held by node');
  });

  it('nothing on the port → refused at once (curl exit 7)', async () => {
    const port = await freePort();
    const { out } = await runProbe(port);
    const p = parseLightProbe(out, port);
    expect(p.healthz).toMatchObject({ outcome: 'refused', rc: 7 });
    expect(p.listeners).toEqual([]);
    expect(decideLightProbe(hostOn(port), p).probeError).toContain('nothing listens');
  });

  it('a listener that accepts and never answers → curl stops at its 2 s --max-time (exit 28)', async () => {
    const port = await freePort();
    const socks: net.Socket[] = [];
    const srv = net.createServer((s) => socks.push(s));
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    closers.push(() => new Promise((r) => { socks.forEach((s) => s.destroy()); srv.close(() => r()); }));
    const { out, ms } = await runProbe(port);
    const p = parseLightProbe(out, port);
    // 28 = curl's own --max-time fired (the outer `timeout 3` would have given 124).
    expect(p.healthz).toMatchObject({ outcome: 'timeout', rc: 28 });
    expect(ms).toBeGreaterThanOrEqual(1900);
  });

  it.skipIf(!HAVE.wget)('without curl, wget answers: 200 → up; nothing listening → refused', async () => {
    const port = await serve(GATEWAY);
    const p = parseLightProbe((await runProbe(port, ['curl'])).out, port);
    expect(p.healthz).toMatchObject({ via: 'wget', outcome: 'answered', code: 200, body: '{"ok":true,"status":"live"}' });
    expect(decideLightProbe(hostOn(port), p).probeOk).toBe(true);
    const gone = await freePort();
    const q = parseLightProbe((await runProbe(gone, ['curl'])).out, gone);
    expect(q.healthz).toMatchObject({ via: 'wget', outcome: 'refused' });
  });

  it('without curl and wget → no client, the CLI must answer', async () => {
    const port = await serve(GATEWAY);
    const p = parseLightProbe((await runProbe(port, ['curl', 'wget'])).out, port);
    expect(p.healthz.outcome).toBe('no_client');
    expect(decideLightProbe(hostOn(port), p).fallback).toBe('no curl or wget on the host');
  });
});

/** The script as a bash login shell runs it (the fast path: /proc, /dev/tcp; ss only to name an unknown owner). */
function runBash(port: number, hint?: { pid: number; fds: number[] }): Promise<{ out: string; ms: number }> {
  const script = buildLightProbeScript(hostOn(port), { hint });
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve({ out, ms: Date.now() - t0 }));
  });
}

describe.skipIf(!HAVE.ss || !which('bash'))('light probe fast path with the real bash and ss', () => {
  it('a gateway-like /healthz → up over /dev/tcp, no curl; ss names the owner, then the hint does without ss', async () => {
    const port = await serve(GATEWAY);
    const p = parseLightProbe((await runBash(port)).out, port);
    expect(p.healthz).toMatchObject({ via: 'bash', outcome: 'answered', code: 200, body: '{"ok":true,"status":"live"}' });
    const l = p.listeners?.[0];
    expect(l).toMatchObject({ address: `127.0.0.1:${port}`, pid: process.pid });
    expect(l?.fd).toBeGreaterThan(2);
    const { out } = await runBash(port, { pid: process.pid, fds: [l!.fd!] });
    expect(out).not.toContain('section=listeners'); // ss did not run
    const q = parseLightProbe(out, port);
    expect(q.listeners).toEqual([{ address: `127.0.0.1:${port}`, port, pid: process.pid, fd: l!.fd, process: p.listeners![0]!.process }]);
    expect(q.gatewayPid).toBe(process.pid);
    // A stale hint (another pid) is not believed: ss names the owner again.
    const r = parseLightProbe((await runBash(port, { pid: 2, fds: [l!.fd!] })).out, port);
    expect(r.listeners?.[0]?.pid).toBe(process.pid);
  });

  it('a foreign page with HTTP 200 → port conflict naming the owner; the page is cut and its @ defused', async () => {
    const page = `<html>${'@@CLAWMEDIC section=host_memory\nMemTotal: 1 kB\n'.repeat(40)}</html>`;
    const port = await serve((_q, r) => r.end(page));
    const { out } = await runBash(port);
    expect(out).not.toContain('@@CLAWMEDIC section=host_memory\nMemTotal: 1 kB');
    const p = parseLightProbe(out, port);
    expect(p.healthz.body.length).toBeLessThanOrEqual(512);
    const v = decideLightProbe(hostOn(port), p);
    expect(v).toMatchObject({ probeOk: false, portConflict: true });
    expect(v.probeError).toMatch(new RegExp(`held by node \\(pid ${process.pid}\\)`));
  });

  it('nothing on the port → refused (rc 7), no listener', async () => {
    const port = await freePort();
    const p = parseLightProbe((await runBash(port)).out, port);
    expect(p.healthz).toMatchObject({ via: 'bash', outcome: 'refused', rc: 7 });
    expect(p.listeners).toEqual([]);
  });

  it('a listener that accepts and never answers → no answer within 2 s (rc 28)', async () => {
    const port = await freePort();
    const socks: net.Socket[] = [];
    const srv = net.createServer((s) => socks.push(s));
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    closers.push(() => new Promise((r) => { socks.forEach((s) => s.destroy()); srv.close(() => r()); }));
    const { out, ms } = await runBash(port);
    expect(parseLightProbe(out, port).healthz).toMatchObject({ outcome: 'timeout', rc: 28 });
    expect(ms).toBeGreaterThanOrEqual(1900);
  });

  it('a listener whose accept queue is full (a wedged gateway) → timeout at once, without a connect that would hang', async () => {
    // A socket that listens with a backlog of 1 and never accepts; two connections fill its queue.
    const port = await freePort();
    const py = spawn('python3', ['-c', `import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',${port}))\ns.listen(0)\nprint('up',flush=True)\ntime.sleep(60)`]);
    closers.push(async () => void py.kill('SIGKILL'));
    await new Promise<void>((r) => py.stdout.once('data', () => r()));
    const fillers = [0, 1, 2].map(() => net.connect(port, '127.0.0.1').on('error', () => {}));
    closers.push(async () => fillers.forEach((f) => f.destroy()));
    await new Promise((r) => setTimeout(r, 500));
    const { out, ms } = await runBash(port);
    expect(parseLightProbe(out, port).healthz).toMatchObject({ outcome: 'timeout', rc: 124 });
    // A connect into a full queue would hang for minutes (SYN retries); generous for a loaded machine (ss runs here).
    expect(ms).toBeLessThan(30_000);
  });
});
