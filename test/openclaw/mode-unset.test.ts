/**
 * Real `gateway.mode` removed from openclaw.json. 2026.9.6 has two outcomes, depending on
 * openclaw.json.bak (the config as it was before the last write):
 *  - .bak without gateway.mode (right after onboard): start BLOCKED, exit 78;
 *  - .bak with gateway.mode (after any `config set`): config AUTO-RESTORED from .bak at start —
 *    including the .bak's older gateway.auth.token, so a token rotation is silently undone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { GatewayHome, saveRealFixture, staleTab } from '../support/real-openclaw/index.js';

describe('real openclaw: gateway.mode unset', () => {
  let home: GatewayHome;

  beforeAll(async () => {
    home = await GatewayHome.create();
  });

  afterAll(async () => {
    await home?.dispose();
  });

  const scrub = (...secrets: string[]): { secrets: string[]; paths: Array<[string, string]> } => ({
    secrets: [home.token, ...secrets],
    paths: [[home.dir, '<home>']],
  });
  const bakMode = (): string | undefined =>
    (JSON.parse(readFileSync(`${home.configPath}.bak`, 'utf8')) as { gateway?: { mode?: string } }).gateway?.mode;

  it('right after onboard (.bak has no gateway.mode): start is blocked, exit 78', async () => {
    expect(bakMode()).toBeUndefined();
    home.unsetGatewayMode();
    const gw = home.startGateway();
    const exit = await gw.waitExit(60_000);
    expect(exit.code).toBe(78);
    expect(gw.output()).toMatch(
      /Gateway start blocked: existing config is missing gateway\.mode\. .*set gateway\.mode=local manually, or pass --allow-unconfigured\./,
    );
    expect(gw.output()).not.toMatch(/auto-restored/);
    saveRealFixture('log-mode-unset-blocked.txt', gw.output(), scrub());
  });

  it('fix: `openclaw config set gateway.mode local` → the gateway starts', async () => {
    const r = await home.cli(['config', 'set', 'gateway.mode', 'local']);
    expect(r.code).toBe(0);
    expect(home.readConfig().gateway?.mode).toBe('local');
    const gw = home.startGateway();
    await gw.waitReady();
    const [a] = await staleTab({ url: home.wsUrl, token: home.token, origin: `http://127.0.0.1:${home.port}`, attempts: 1 });
    expect(a?.helloOk).toBe(true);
    await gw.stop();
  });

  it('after a token rotation (.bak has mode + the OLD token): start auto-restores .bak and the rotation is undone', async () => {
    const oldToken = home.token;
    const rotated = `rotated-${Date.now()}`;
    await home.rotateToken(rotated);
    expect(bakMode()).toBe('local');
    home.unsetGatewayMode();

    const gw = home.startGateway();
    await gw.waitReady();
    expect(gw.output()).toMatch(/Config auto-restored from backup: \S*openclaw\.json \(gateway-mode-missing-vs-last-good\)/);
    expect(gw.output()).not.toMatch(/Gateway start blocked/);
    expect(home.readConfig().gateway?.mode).toBe('local');
    expect(home.stateFiles().some((f) => /^openclaw\.json\.clobbered\./.test(f))).toBe(true);
    // The restored config carries the token from before the rotation.
    expect(home.readConfig().gateway?.auth?.token).toBe(oldToken);
    const withRotated = await staleTab({ url: home.wsUrl, token: rotated, origin: `http://localhost:${home.port}`, attempts: 2, backoff: { initialMs: 200, factor: 1.7, maxMs: 1000 } });
    for (const a of withRotated) expect(a.error?.details?.code).toBe('AUTH_TOKEN_MISMATCH');
    const [withOld] = await staleTab({ url: home.wsUrl, token: oldToken, origin: `http://127.0.0.1:${home.port}`, attempts: 1 });
    expect(withOld?.helloOk).toBe(true);
    saveRealFixture('log-mode-unset-autorestored.txt', gw.output().split('\n').slice(0, 6).join('\n'), scrub(rotated, oldToken));
    await gw.stop();
    home.token = oldToken;
  });
});
