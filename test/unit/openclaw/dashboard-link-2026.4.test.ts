/**
 * Item 9: on 2026.4 `openclaw dashboard --json` is an unknown option (real output in
 * src/standin/samples/2026.4/dashboard-json-unknown-option.txt), and on 2026.9 it takes ~20 s: the link
 * step builds the link on the host from the config file's token, and asks the CLI only when the config
 * holds no plain token.
 */
import { chmodSync, existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDashboardUrl } from '../../../src/openclaw/plan.js';
import { dashboardLinkScript } from '../../../src/openclaw/templates.js';
import { fx, nativeHost } from './helpers.js';

function setup(fakeCli: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cm-link-'));
  writeFileSync(path.join(dir, 'openclaw.json'), JSON.stringify({ gateway: { mode: 'local', port: 18790, auth: { mode: 'token', token: 'tok/with+odd=chars' } } }));
  const bin = path.join(dir, 'openclaw');
  writeFileSync(bin, fakeCli);
  chmodSync(bin, 0o755);
  return { dir, host: nativeHost({ openclaw: { bin, stateDir: dir }, gateway: { port: 18790 } }) };
}

describe('fresh dashboard link', () => {
  it('2026.4: unknown option → the link is built on the host from the config token', () => {
    const out = fx('2026.4/dashboard-json-unknown-option.txt').split('\n')[0]!;
    const { dir, host } = setup(`#!/bin/sh\necho "${out}" >&2\nexit 1\n`);
    const r = spawnSync('sh', ['-c', dashboardLinkScript(host)], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(parseDashboardUrl(r.stdout)).toBe('http://127.0.0.1:18790/#token=tok%2Fwith%2Bodd%3Dchars');
    rmSync(dir, { recursive: true });
  });

  it('2026.9: the link is built from the config token without the CLI (its dashboard --json takes ~20 s on a real host)', () => {
    const { dir, host } = setup(`#!/bin/sh\necho called >"$(dirname "$0")/cli-called"\n`);
    const r = spawnSync('sh', ['-c', dashboardLinkScript(host)], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(parseDashboardUrl(r.stdout)).toBe('http://127.0.0.1:18790/#token=tok%2Fwith%2Bodd%3Dchars');
    expect(existsSync(path.join(dir, 'cli-called'))).toBe(false);
    rmSync(dir, { recursive: true });
  });

  it('no plain token in the config (a secret reference): the answer of dashboard --json', () => {
    const json = fx('dashboard.json').replace(/\n/g, ' ');
    const { dir, host } = setup(`#!/bin/sh\necho '${json}'\n`);
    writeFileSync(path.join(dir, 'openclaw.json'), JSON.stringify({ gateway: { mode: 'local', auth: { mode: 'token', token: { source: 'env', id: 'GW_TOKEN' } } } }));
    const r = spawnSync('sh', ['-c', dashboardLinkScript(host)], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(parseDashboardUrl(r.stdout)).toBe('http://127.0.0.1:18789/#token=<redacted>');
    rmSync(dir, { recursive: true });
  });

  it('no token in the config: fails, prints no link', () => {
    const { dir, host } = setup('#!/bin/sh\nexit 1\n');
    writeFileSync(path.join(dir, 'openclaw.json'), '{"gateway":{"mode":"local"}}');
    const r = spawnSync('sh', ['-c', dashboardLinkScript(host)], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(parseDashboardUrl(r.stdout)).toBeNull();
    rmSync(dir, { recursive: true });
  });
});
