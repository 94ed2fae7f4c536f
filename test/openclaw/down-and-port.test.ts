/**
 * Real gateway down (clean stop, kill -9) and real port conflict (python3 http.server on the
 * gateway's port): what `gateway status --json` and `gateway run` print, and the fixes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  GatewayHome,
  isListening,
  occupyPort,
  saveRealFixture,
  staleTab,
  type PortOccupant,
} from '../support/real-openclaw/index.js';

describe('real openclaw: gateway down, crash, port held by another program', () => {
  let home: GatewayHome;
  let squatter: PortOccupant | undefined;

  beforeAll(async () => {
    home = await GatewayHome.create();
  });

  afterAll(async () => {
    await squatter?.stop();
    await home?.dispose();
  });

  const scrub = (): { secrets: string[]; paths: Array<[string, string]> } => ({ secrets: [home.token], paths: [[home.dir, '<home>']] });

  it('clean stop: SIGTERM → "[gateway] received SIGTERM" … "[shutdown] completed cleanly"; status ECONNREFUSED, port free', async () => {
    const gw = home.startGateway();
    await gw.waitReady();
    const t0 = Date.now();
    await gw.stop();
    const stopMs = Date.now() - t0;
    expect(gw.output()).toMatch(/\[gateway\] received SIGTERM; shutting down/);
    expect(gw.output()).toMatch(/\[shutdown\] completed cleanly/);
    expect(stopMs).toBeLessThan(15_000);
    expect(await isListening(home.port)).toBe(false);

    const { code, json, raw } = await home.gatewayStatus();
    expect(code).toBe(0);
    expect(json.rpc?.ok).toBe(false);
    expect(json.rpc?.error).toMatch(new RegExp(`connect ECONNREFUSED 127\\.0\\.0\\.1:${home.port}`));
    expect(json.port?.status).toBe('free');
    expect(json.service?.inspectionReason).toBe('service-manager-unavailable');
    saveRealFixture('gateway-status-down.json', raw.stdout, scrub());
    // A client sees a refused socket, not a WebSocket close.
    const [a] = await staleTab({ url: home.wsUrl, token: home.token, origin: `http://127.0.0.1:${home.port}`, attempts: 1 });
    expect(a?.socketError).toBe('ECONNREFUSED');
    expect(a?.challenge).toBe(false);
  });

  it('crash: kill -9 leaves no shutdown line, the same "down" status, and lock files behind; a new start takes over', async () => {
    const gw = home.startGateway();
    await gw.waitReady();
    const exit = await gw.kill9();
    expect(exit.signal).toBe('SIGKILL');
    expect(gw.output()).not.toMatch(/received SIGTERM|completed cleanly/);
    const { json } = await home.gatewayStatus();
    expect(json.rpc?.ok).toBe(false);
    expect(json.rpc?.error).toMatch(/ECONNREFUSED/);
    expect(json.port?.status).toBe('free');
    gw.dispose(); // reap the helpers a SIGKILL orphans

    const tmp = path.join(home.stateDir, 'tmp');
    const locks = existsSync(tmp) ? readdirSync(tmp, { recursive: true }).map(String).filter((f) => /gateway.*\.lock$/.test(f)) : [];
    console.info(`[observe] lock files after kill -9: ${JSON.stringify(locks)}`);

    // Fix for "down": start it again (how depends on the supervisor; here the harness is the supervisor).
    const again = home.startGateway();
    await again.waitReady();
    expect((await home.gatewayStatus()).json.rpc?.ok).toBe(true);
    await again.stop();
  });

  it('`gateway restart` does not restart a foreground gateway: exit 1, ok:false', async () => {
    const r = await home.cli(['gateway', 'restart', '--json'], 90_000);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { action: string; ok: boolean; error: string };
    expect(json).toMatchObject({ action: 'restart', ok: false });
    // With OPENCLAW_STATE_DIR set (a profile / non-default state dir) 2026.9.6 refuses before it even
    // looks for a service manager; with the default ~/.openclaw it says "Gateway service disabled.".
    expect(json.error).toMatch(/service management skipped: non-default state dir or config path|Gateway service disabled\./);
    saveRealFixture('gateway-restart-state-dir.json', r.stdout, scrub());
  });

  it('port held by python3 http.server: status says busy / unreachable / HTTP 200; gateway run exits 1 with EADDRINUSE', async () => {
    squatter = await occupyPort(home.port);
    const { json, raw } = await home.gatewayStatus();
    expect(json.rpc?.ok).toBe(false);
    expect(json.rpc?.error).toMatch(/gateway rejected websocket upgrade \(HTTP 200\)/);
    expect(json.rpc?.connectFailure?.kind).toBe('unreachable');
    expect(json.port?.status).toBe('busy');
    // Same user: the listener is visible (the shared sample ran python as root and saw listeners: []).
    const listener = json.port?.listeners?.[0];
    if (listener) expect(listener.pid).toBe(squatter.pid);
    saveRealFixture('gateway-status-port-conflict.json', raw.stdout, scrub());

    const gw = home.startGateway();
    const t0 = Date.now();
    const exit = await gw.waitExit(120_000);
    const failMs = Date.now() - t0;
    expect(exit.code).toBe(1);
    expect(gw.output()).toMatch(/Gateway failed to start: another gateway instance is already listening on ws:\/\/127\.0\.0\.1:\d+/);
    expect(gw.output()).toMatch(/EADDRINUSE/);
    expect(gw.output()).toMatch(new RegExp(`Port ${home.port} is already in use\\.`));
    console.info(`[measure] gateway run vs. occupied port gave up after ${failMs} ms`);
    saveRealFixture('log-port-conflict.txt', gw.output(), scrub());
    expect(await isListening(home.port)).toBe(true); // python still holds it
  });

  it('fix for the port conflict: stop the other program, start the gateway → one listener, the gateway', async () => {
    await squatter!.stop();
    squatter = undefined;
    const gw = home.startGateway();
    await gw.waitReady();
    const { json } = await home.gatewayStatus();
    expect(json.rpc?.ok).toBe(true);
    expect(json.port?.listeners?.map((l) => l.pid)).toEqual([gw.pid]);
    await gw.stop();
  });
});
