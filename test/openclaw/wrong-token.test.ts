/**
 * Real gateway, real wrong-token client: a stale tab loops connect.challenge → connect(bad token)
 * → 1008 from the gateway → the tab closes 4008, and the gateway file log pairs the two by conn id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FileLogCursor,
  GatewayHome,
  saveRealFixture,
  staleTab,
  type GatewayProcess,
} from '../support/real-openclaw/index.js';

const FAST = { initialMs: 150, factor: 1.7, maxMs: 1000 };

describe('real openclaw: wrong token / stale tab', () => {
  let home: GatewayHome;
  let gw: GatewayProcess;
  let log: FileLogCursor;

  beforeAll(async () => {
    home = await GatewayHome.create();
    gw = home.startGateway();
    await gw.waitReady();
    log = FileLogCursor.fromNow(logPathOf(gw));
  });

  afterAll(async () => {
    await home?.dispose();
  });

  it('prints its log file and becomes ready with a healthy probe', async () => {
    expect(gw.output()).toMatch(/\[gateway\] log file: \/tmp\/openclaw[^\s]*\/openclaw-\d{4}-\d{2}-\d{2}\.log/);
    const { code, json, raw } = await home.gatewayStatus();
    expect(code).toBe(0);
    expect(json.rpc?.ok).toBe(true);
    expect(json.port?.status).toBe('busy');
    expect(json.port?.listeners?.[0]).toMatchObject({ pid: gw.pid, command: 'openclaw-gatewa', address: `127.0.0.1:${home.port}` });
    expect(json.gateway?.probeUrl).toBe(home.wsUrl);
    expect(json.logFile).toBe(logPathOf(gw));
    saveRealFixture('gateway-status-up.json', raw.stdout, scrubOf(home));
    console.info(`[measure] gateway boot ${gw.bootMs} ms; gateway status --json ${raw.durationMs} ms`);
  });

  it('a tab with a wrong token loops: 1008 token mismatch each time, the tab closes 4008, log pairs by conn', async () => {
    const origin = `http://127.0.0.1:${home.port}`;
    const attempts = await staleTab({ url: home.wsUrl, token: 'stale-token-from-old-tab', origin, attempts: 5, backoff: FAST });
    expect(attempts).toHaveLength(5);
    for (const a of attempts) {
      expect(a.challenge).toBe(true);
      expect(a.helloOk).toBe(false);
      expect(a.error?.code).toBe('INVALID_REQUEST');
      expect(a.error?.message).toMatch(/^unauthorized: gateway token mismatch/);
      expect(a.error?.details).toMatchObject({ code: 'AUTH_TOKEN_MISMATCH', authReason: 'token_mismatch' });
      expect(a.sentCloseCode).toBe(4008);
      // The gateway's own close (1008 + reason) reaches the client before the echo of our 4008.
      expect(a.closeCode).toBe(1008);
      expect(a.closeReason).toMatch(/gateway token mismatch/);
    }
    // Backoff grows between attempts like the UI's (0.15, 0.26, 0.43, 0.74 s here).
    const gaps = attempts.slice(1).map((a, i) => a.atMs - attempts[i]!.atMs);
    expect(gaps[3]!).toBeGreaterThan(gaps[0]!);

    const unauthorized = await log.waitFor(/^unauthorized conn=\S+ .*client=webchat-ui webchat .*reason=token_mismatch/, 5);
    const closed = await log.waitFor(/^closed before connect conn=\S+ .*code=4008 reason=connect failed/, 5);
    const connOf = (t: string): string => /conn=(\S+)/.exec(t)![1]!;
    const closedConns = new Set(closed.map((e) => connOf(e.text)));
    for (const u of unauthorized) {
      expect(u.level).toBe('WARN');
      expect(u.subsystem).toBe('gateway/ws');
      expect(u.text).toContain(`origin=${origin}`);
      expect(closedConns.has(connOf(u.text))).toBe(true);
    }
    // The file log keeps the text short; the details are structured fields of the same record.
    expect(closed[0]!.text).toMatch(/phase=auth_credentials_received$/);
    expect(closed[0]!.fields).toMatchObject({
      cause: 'unauthorized',
      handshake: 'failed',
      authReason: 'token_mismatch',
      client: 'webchat-ui',
      mode: 'webchat',
      hasDeviceIdentity: false,
    });
    // Under the per-Origin limit (10 failures / 60 s): no lockout yet.
    expect(log.grep(/reason=rate_limited/)).toHaveLength(0);
    saveRealFixture('log-wrong-token.jsonl', [...unauthorized, ...closed].slice(0, 4).map((e) => e.raw).join('\n'), scrubOf(home));
  });

  it('the right token from the same Origin still gets hello-ok (stale tab ≠ broken gateway)', async () => {
    const [a] = await staleTab({ url: home.wsUrl, token: home.token, origin: `http://127.0.0.1:${home.port}`, attempts: 1 });
    expect(a?.helloOk).toBe(true);
    expect(a?.error).toBeUndefined();
    await log.waitFor(/^webchat connected conn=\S+ remote=127\.0\.0\.1 client=webchat-ui/, 1);
  });

  it('a CLI probe with a wrong --token: exit 0, rpc.ok false, auth-rejected / AUTH_TOKEN_MISMATCH, gateway logs 1008', async () => {
    const { code, json, raw } = await home.gatewayStatus(['--token', 'wrong-host-token']);
    expect(code).toBe(0); // status exits 0 even when the probe fails
    expect(json.rpc?.ok).toBe(false);
    expect(json.rpc?.error).toMatch(/unauthorized: gateway token mismatch/);
    expect(json.rpc?.connectFailure).toMatchObject({ kind: 'auth-rejected', detailCode: 'AUTH_TOKEN_MISMATCH' });
    expect(json.port?.status).toBe('busy');
    // The probe does not close 4008 itself: the gateway's 1008 is what the log records.
    const probeLines = await log.waitFor(/^closed before connect conn=\S+ .*code=1008 /, 1);
    expect(probeLines[0]!.fields).toMatchObject({ client: 'cli', mode: 'probe', authReason: 'token_mismatch' });
    const conn = /conn=(\S+)/.exec(probeLines[0]!.text)![1]!;
    const unauthorized = log.grep(new RegExp(`^unauthorized conn=${conn} .*client=cli probe .*reason=token_mismatch`));
    expect(unauthorized).toHaveLength(1);
    expect(gw.output()).toContain(`closed before connect conn=${conn}`);
    saveRealFixture('log-host-cli-probe-wrong-token.stdout.txt', gw.output().split('\n').filter((l) => l.includes(conn)).join('\n'), scrubOf(home));
    saveRealFixture('gateway-status-token-mismatch.json', raw.stdout, scrubOf(home));
  });
});

function logPathOf(gw: GatewayProcess): string {
  return gw.logFile() ?? FileLogCursor.fromNow().path;
}

function scrubOf(home: GatewayHome): { secrets: string[]; paths: Array<[string, string]> } {
  return { secrets: [home.token], paths: [[home.dir, '<home>']] };
}
