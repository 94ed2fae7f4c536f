/**
 * Real token changes: `config set gateway.auth.token` hot-reloads into a running gateway (4001 to
 * connected tabs, then 4008s), and a stale `gateway run --token X` override beats the config.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FileLogCursor,
  GatewayHome,
  saveRealFixture,
  staleTab,
  startControlUiClient,
  type GatewayProcess,
} from '../support/real-openclaw/index.js';

const FAST = { initialMs: 200, factor: 1.7, maxMs: 1000 };

describe('real openclaw: token rotated while a tab is connected', () => {
  let home: GatewayHome;
  let gw: GatewayProcess;
  let oldToken: string;

  beforeAll(async () => {
    home = await GatewayHome.create();
    oldToken = home.token;
    gw = home.startGateway();
    await gw.waitReady();
  });

  afterAll(async () => {
    await home?.dispose();
  });

  it('hot-reloads the new token: the tab gets 4001 "gateway auth changed", then its old token fails (1008/4008)', async () => {
    const log = FileLogCursor.fromNow(gw.logFile());
    const origin = `http://localhost:${home.port}`;
    const tab = startControlUiClient({ url: home.wsUrl, token: oldToken, origin, attempts: 4, holdMs: Infinity, backoff: FAST });
    await tab.waitFor((a) => a[0]?.helloOk === true, 15_000);

    const newToken = `rotated-${Date.now()}`;
    const set = await home.rotateToken(newToken);
    expect(set.code).toBe(0);

    const attempts = await tab.done;
    expect(attempts[0]).toMatchObject({ helloOk: true, closeCode: 4001, closeReason: 'gateway auth changed' });
    for (const a of attempts.slice(1)) {
      expect(a.helloOk).toBe(false);
      expect(a.error?.details?.code).toBe('AUTH_TOKEN_MISMATCH');
      expect(a.sentCloseCode).toBe(4008);
    }
    expect(attempts.length).toBe(4);

    await log.waitFor(/^config change detected; evaluating reload \(gateway\.auth\.token\)/);
    const d4001 = await log.waitFor(/^webchat disconnected code=4001 reason=gateway auth changed conn=/);
    await log.waitFor(/^closed before connect conn=\S+ .*code=4008 reason=connect failed/, 3);
    const all = log.entries();
    const iReload = all.findIndex((e) => /evaluating reload \(gateway\.auth\.token\)/.test(e.text));
    const i4001 = all.findIndex((e) => e.raw === d4001[0]!.raw);
    const iFirst4008 = all.findIndex((e) => /code=4008 reason=connect failed/.test(e.text));
    // The signature of a rotation: reload, then 4001, then 4008s.
    expect(iReload).toBeLessThan(i4001);
    expect(i4001).toBeLessThan(iFirst4008);
    expect(d4001[0]!.level).toBe('INFO');
    expect(gw.output()).toMatch(/\[reload\] config (hot reload applied|change applied).*gateway\.auth\.token/);

    const scrub = { secrets: [oldToken, newToken], paths: [[home.dir, '<home>']] as Array<[string, string]> };
    saveRealFixture(
      'log-token-rotated-while-connected.stdout.txt',
      gw.output().split('\n').filter((l) => /\[reload\]|\[ws\]/.test(l)).join('\n'),
      scrub,
    );
  });

  it("the host's own `gateway status` stays healthy after the rotation (the CLI reads the new token)", async () => {
    const { json } = await home.gatewayStatus();
    expect(json.rpc?.ok).toBe(true);
    expect(home.readConfig().gateway?.auth?.token).toBe(home.token);
  });

  it('a tab with the new token connects again (the fix: hand the user a fresh tokenized link)', async () => {
    const dash = await home.cli(['dashboard', '--json', '--no-open'], 90_000);
    expect(dash.code).toBe(0);
    const url = (JSON.parse(dash.stdout.slice(dash.stdout.indexOf('{'))) as { url: string }).url;
    const fresh = decodeURIComponent(/#token=([^&]+)/.exec(url)![1]!);
    expect(fresh).toBe(home.token);
    const [a] = await staleTab({ url: home.wsUrl, token: fresh, origin: `http://localhost:${home.port}`, attempts: 1 });
    expect(a?.helloOk).toBe(true);
  });
});

describe('real openclaw: gateway started with a stale --token override', () => {
  let home: GatewayHome;
  let gw: GatewayProcess;
  const override = `override-${Date.now()}`;

  beforeAll(async () => {
    home = await GatewayHome.create();
    gw = home.startGateway({ token: override });
    await gw.waitReady();
  });

  afterAll(async () => {
    await home?.dispose();
  });

  it('clients holding the config token are refused; the override token is accepted', async () => {
    const log = FileLogCursor.fromNow(gw.logFile());
    const origin = `http://127.0.0.1:${home.port}`;
    const withConfigToken = await staleTab({ url: home.wsUrl, token: home.token, origin, attempts: 3, backoff: FAST });
    for (const a of withConfigToken) {
      expect(a.error?.details).toMatchObject({ code: 'AUTH_TOKEN_MISMATCH', authReason: 'token_mismatch' });
      expect(a.sentCloseCode).toBe(4008);
    }
    await log.waitFor(/^unauthorized conn=\S+ .*reason=token_mismatch/, 3);
    await log.waitFor(/^closed before connect conn=\S+ .*code=4008 reason=connect failed/, 3);
    const [good] = await staleTab({ url: home.wsUrl, token: override, origin, attempts: 1 });
    expect(good?.helloOk).toBe(true);
  });

  it('`gateway status` (CLI uses the config token) reports the mismatch although the gateway is up', async () => {
    const { code, json, raw } = await home.gatewayStatus();
    expect(code).toBe(0);
    expect(json.rpc?.ok).toBe(false);
    expect(json.rpc?.connectFailure).toMatchObject({ kind: 'auth-rejected', detailCode: 'AUTH_TOKEN_MISMATCH' });
    expect(json.port?.status).toBe('busy');
    expect(json.port?.listeners?.[0]?.pid).toBe(gw.pid);
    // The override is visible to anyone who can read the process list: the evidence a diagnosis can use.
    expect(json.port?.listeners?.[0]?.commandLine).toBeDefined();
    saveRealFixture('gateway-status-token-override.json', raw.stdout, {
      secrets: [home.token, override],
      paths: [[home.dir, '<home>']],
    });
  });

  it('the fix: restart without the override → the config token works again', async () => {
    const stopped = await gw.stop();
    expect(stopped.signal === 'SIGTERM' || stopped.code === 0).toBe(true);
    const gw2 = home.startGateway();
    await gw2.waitReady();
    const { json } = await home.gatewayStatus();
    expect(json.rpc?.ok).toBe(true);
    const [a] = await staleTab({ url: home.wsUrl, token: home.token, origin: `http://localhost:${home.port}`, attempts: 1 });
    expect(a?.helloOk).toBe(true);
  });
});
