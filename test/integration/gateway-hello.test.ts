/**
 * The diagnose pass's gateway hello (src/openclaw/gateway-hello.ts), run by the real `node` against
 * local servers that answer as the real 2026.9.6 gateway does (frame shapes and error texts of the
 * real one: test/support/real-openclaw/control-ui-client.ts, src/standin/samples/gateway-status-*.json),
 * and against the faults: nothing listening, another program answering HTTP 200, a listener that
 * never answers. Its answers parse like the CLI's, and the token never appears in what it prints.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { GATEWAY_HELLO_JS, HELLO_UNSURE_RC } from '../../src/openclaw/gateway-hello.js';
import { parseGatewayStatusJson } from '../../src/openclaw/parse-gateway-status.js';
import { splitSections } from '../../src/openclaw/evidence.js';
import { freePort } from '../support/free-port.js';

const TOKEN = 'hello-test-token-5f1c9e';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function stateDir(config: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cm-hello-'));
  writeFileSync(path.join(dir, 'openclaw.json'), JSON.stringify(config));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function runHello(dir: string, port: number, timeoutMs = 3000): Promise<{ code: number | null; out: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', GATEWAY_HELLO_JS, '--', String(port), String(timeoutMs), 'openclaw-not-installed'], {
      env: { ...process.env, OPENCLAW_STATE_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.on('close', (code) => resolve({ code, out, ms: Date.now() - started }));
  });
}

/** A gateway-like WebSocket server: connect.challenge, then the answer `accept` decides, then health. */
async function fakeGateway(accept: (params: { auth?: { token?: string }; client?: { id?: string; mode?: string } }) => boolean, startingFor = 0): Promise<number> {
  const port = await freePort();
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  let connections = 0;
  wss.on('connection', (ws) => {
    // A gateway still starting closes every connection with 1013, as 2026.9.6 does before `[gateway] ready`.
    if (++connections <= startingFor) return ws.close(1013, 'gateway starting; retry shortly');
    ws.send(JSON.stringify({ type: 'event', event: 'connect.challenge', payload: { nonce: 'n' } }));
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { id: string; method: string; params: Parameters<typeof accept>[0] };
      if (m.method === 'connect') {
        if (accept(m.params)) {
          ws.send(JSON.stringify({ type: 'res', id: m.id, ok: true, payload: { type: 'hello-ok', protocol: 4, server: { version: '2026.9.6' } } }));
        } else {
          const message = 'unauthorized: gateway token mismatch (provide gateway auth token)';
          ws.send(JSON.stringify({ type: 'res', id: m.id, ok: false, error: { code: 'INVALID_REQUEST', message, details: { code: 'AUTH_TOKEN_MISMATCH' } } }));
          ws.close(1008, message);
        }
      } else if (m.method === 'health') {
        ws.send(JSON.stringify({ type: 'res', id: m.id, ok: true, payload: { ok: true, plugins: { loaded: ['a'], errors: [{ id: 'broken', error: 'boom' }] } } }));
      }
    });
  });
  await new Promise((r) => wss.once('listening', r));
  cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
  return port;
}

const cfg = (port: number, token: string | null = TOKEN) => ({ gateway: { mode: 'local', port, auth: { mode: 'token', ...(token ? { token } : {}) } } });

describe('gateway hello', () => {
  it('gateway up: probe ok, health from the same connection, the client is the CLI probe, the token is never printed', async () => {
    let seen: Parameters<Parameters<typeof fakeGateway>[0]>[0] | undefined;
    const port = await fakeGateway((p) => ((seen = p), p.auth?.token === TOKEN));
    const r = await runHello(stateDir(cfg(port)), port);
    expect(r.code, r.out).toBe(0);
    expect(seen?.client).toMatchObject({ id: 'cli', mode: 'probe' });
    const s = splitSections(r.out);
    const gs = parseGatewayStatusJson(s.gateway_status!.output);
    expect(gs).toMatchObject({ probeOk: true, gatewayVersion: '2026.9.6', port, portStatus: 'busy' });
    expect(s.health?.rc).toBe(0);
    expect(s.health?.output).toContain('"broken"');
    expect(s.config?.output).toContain('authTokenSet=yes');
    expect(r.out).not.toContain(TOKEN);
  });

  it('token refused: the CLI\'s own error text and detail code, health failed as the CLI\'s would', async () => {
    const port = await fakeGateway(() => false);
    const r = await runHello(stateDir(cfg(port)), port);
    expect(r.code, r.out).toBe(0);
    const s = splitSections(r.out);
    const gs = parseGatewayStatusJson(s.gateway_status!.output);
    expect(gs).toMatchObject({ probeOk: false, probeAuthRejected: true, probeDetailCode: 'AUTH_TOKEN_MISMATCH', probeFailureKind: 'auth-rejected' });
    expect(gs?.probeError).toBe('unauthorized: gateway token mismatch (provide gateway auth token)');
    expect(s.health?.rc).toBe(1);
    expect(r.out).not.toContain(TOKEN);
  });

  it('a gateway still starting (1013) is asked again until it answers', async () => {
    const port = await fakeGateway((p) => p.auth?.token === TOKEN, 2);
    const r = await runHello(stateDir(cfg(port)), port, 8000);
    expect(r.code, r.out).toBe(0);
    expect(parseGatewayStatusJson(splitSections(r.out).gateway_status!.output)?.probeOk).toBe(true);
  });

  it('a gateway that stays starting: cannot tell at the deadline (the CLI answers then)', async () => {
    const port = await fakeGateway(() => true, 1_000_000);
    const r = await runHello(stateDir(cfg(port)), port, 1500);
    expect(r.code, r.out).toBe(HELLO_UNSURE_RC);
    expect(r.out).toContain('gateway starting');
  });

  it('nothing listening: connect ECONNREFUSED, port free (the gateway is down)', async () => {
    const port = await freePort();
    const r = await runHello(stateDir(cfg(port)), port);
    expect(r.code).toBe(0);
    const gs = parseGatewayStatusJson(splitSections(r.out).gateway_status!.output);
    expect(gs).toMatchObject({ probeOk: false, probeRefused: true, portStatus: 'free' });
  });

  it('another program answering HTTP 200 on the port: a rejected upgrade (port conflict), its page not copied', async () => {
    const port = await freePort();
    const server: Server = createServer((_req, res) => res.end('<html><title>Directory listing for /</title></html>'));
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const r = await runHello(stateDir(cfg(port)), port);
    expect(r.code).toBe(0);
    const gs = parseGatewayStatusJson(splitSections(r.out).gateway_status!.output);
    expect(gs).toMatchObject({ probeOk: false, probeForeignHttp: true, probeError: 'gateway rejected websocket upgrade (HTTP 200)' });
    expect(r.out).not.toContain('Directory listing');
  });

  it('a listener that never answers: gives up at its deadline and says it cannot tell (the CLI answers then)', async () => {
    const port = await freePort();
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))));
    const r = await runHello(stateDir(cfg(port)), port, 1500);
    expect(r.code).toBe(HELLO_UNSURE_RC);
    expect(splitSections(r.out).gateway_status).toBeUndefined();
    expect(r.ms).toBeLessThan(30_000);
  });

  it('no plain token in the config: cannot tell, connects to nothing', async () => {
    let connects = 0;
    const port = await fakeGateway(() => (connects++, true));
    const r = await runHello(stateDir(cfg(port, null)), port);
    expect(r.code).toBe(HELLO_UNSURE_RC);
    expect(connects).toBe(0);
  });
});
