/**
 * A fix that ran `doctor --fix` (which rewrites openclaw.json, keeping openclaw.json.bak) and did
 * not help: the report says "not fixed, cause still X" with what was tried, and offers to put the
 * backup back; pressing it stops the gateway, restores the backup (keeping the current file) and
 * starts it again.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/app-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    // The stand-in keeps openclaw.json in its state dir: point the host's OPENCLAW_STATE_DIR there.
    moreHosts: (_sshd, standin) => [{ name: 'staged', openclaw: { bin: 'openclaw', stateDir: standin.stateDir } }],
    app: { verifyWindowSec: 1 }, extra: { fix: { maxAttemptsPerHour: 20, verifyWindowSec: 1, startWaitSec: 5 } } });
}, 60_000);
afterAll(async () => h?.close());

describe('restore offer after a fix that did not help', () => {
  it('reports not fixed, offers the backup, and restores it on request', async () => {
    await h.standin.setScenario('gateway_down');
    const S = h.standin.stateDir;
    await writeFile(path.join(S, 'wont_start'), '');
    await writeFile(path.join(S, 'openclaw.json.bak'), '{"gateway":{"mode":"local","port":18789,"from":"backup"}}\n');
    const con = h.app.console!;
    const first = await con.input('/fix staged');
    const plan = await con.waitFor(first.messageKey!, 30_000);
    const pressed = await con.press(plan.buttons!.find((b) => b.action === 'confirm')!);
    const outcome = await con.waitFor(pressed.messageKey!, 90_000);
    // The gateway never answered: the wait step failed after doctor --fix had rewritten the config.
    expect(outcome.title).toBe('staged: fix failed (gateway down)');
    expect(outcome.body?.join('\n')).toMatch(/Step "wait_for_gateway" failed/);
    expect(outcome.fields?.map((f) => f.name)).toEqual(['ok stop_gateway', 'ok doctor_fix', 'ok start_gateway', 'FAILED wait_for_gateway']);
    const restore = outcome.buttons?.find((b) => b.action === 'restore');
    expect(restore?.label).toBe('Restore config backup');
    const before = await readFile(path.join(S, 'openclaw.json'), 'utf8');
    await rm(path.join(S, 'wont_start'));
    const res = await con.press(restore!);
    const restored = await con.waitFor(res.messageKey!, 90_000);
    expect(restored.fields?.map((f) => f.name)).toEqual(expect.arrayContaining(['ok restore_config_backup']));
    expect(await readFile(path.join(S, 'openclaw.json'), 'utf8')).toContain('"from":"backup"');
    // The file doctor wrote is kept next to it, not lost.
    const kept = (await readdir(S)).filter((f) => f.startsWith('openclaw.json.clawmedic-'));
    expect(kept).toHaveLength(1);
    expect(await readFile(path.join(S, kept[0]!), 'utf8')).toBe(before);
  }, 120_000);
});

