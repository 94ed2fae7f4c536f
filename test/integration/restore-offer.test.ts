/**
 * A fix that ran `doctor --fix` (which rewrites openclaw.json, keeping openclaw.json.bak) and did
 * not help: the report says "not fixed, cause still X" with what was tried, and offers to put the
 * backup back; pressing it stops the gateway, restores the backup (keeping the current file) and
 * starts it again.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/app-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    // The stand-in keeps openclaw.json in its state dir: point the host's OPENCLAW_STATE_DIR there.
    moreHosts: (_sshd, standin) => [
      { name: 'staged', openclaw: { bin: 'openclaw', stateDir: standin.stateDir } },
      // A docker install: its state (the stand-in's state dir) is in the container, reached by one-off containers.
      { name: 'boxed', install: 'docker', container: 'openclaw', supervisor: { kind: 'docker', container: 'openclaw' } },
    ],
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

  it('docker: doctor --fix and the restore run in one-off containers on the container state, never in the SSH user\'s ~/.openclaw', async () => {
    await h.standin.setScenario('gateway_down');
    await h.standin.clearCalls();
    const S = h.standin.stateDir;
    await rm(path.join(S, 'oneoff.log'), { force: true });
    await writeFile(path.join(S, 'wont_start'), '');
    await writeFile(path.join(S, 'openclaw.json.bak'), '{"gateway":{"mode":"local","port":18789,"from":"container-backup"}}\n');
    const con = h.app.console!;
    const first = await con.input('/fix boxed');
    const plan = await con.waitFor(first.messageKey!, 30_000);
    expect(plan.body?.join('\n') ?? '').toMatch(/one-off container/);
    const pressed = await con.press(plan.buttons!.find((b) => b.action === 'confirm')!);
    const outcome = await con.waitFor(pressed.messageKey!, 90_000);
    expect(outcome.fields?.map((f) => f.name)).toEqual(['ok stop_gateway', 'ok container_doctor_fix', 'ok start_gateway', 'FAILED wait_for_gateway']);
    const ran = (await h.standin.calls()).map((argv) => argv.join(' '));
    const stop = ran.indexOf('docker stop -- openclaw');
    const oneOff = ran.findIndex((c) => c.startsWith('docker run -d '));
    const start = ran.indexOf('docker start -- openclaw');
    expect(stop).toBeGreaterThanOrEqual(0);
    expect(oneOff).toBeGreaterThan(stop);
    expect(start).toBeGreaterThan(oneOff);
    expect(ran[oneOff]).toMatch(/--volumes-from openclaw --env-file \S+ --network host --user node --workdir \/app --entrypoint \/bin\/sh sha256:5f1bd0c6/);
    expect(ran.some((c) => c.startsWith('docker exec') && c.includes('doctor'))).toBe(false);
    // doctor ran inside the one-off with the gateway stopped, as the container's user with its env.
    expect(ran).toContain('openclaw doctor --fix');
    // The env file (it holds the container's secrets) was private and is gone; its values never show.
    const oneoffLog = await readFile(path.join(S, 'oneoff.log'), 'utf8');
    expect(oneoffLog).toMatch(/envfile_mode=600 running=0/);
    const envFile = /envfile=(\S+)/.exec(oneoffLog)![1]!;
    expect(existsSync(envFile)).toBe(false);
    const shown = JSON.stringify(outcome);
    expect(shown).not.toContain('standin-env-secret-5b8e');

    // The restore offered afterwards puts back the backup in the container's state, through a one-off container.
    const restore = outcome.buttons?.find((b) => b.action === 'restore');
    expect(restore).toBeDefined();
    await rm(path.join(S, 'wont_start'));
    await h.standin.clearCalls();
    const res = await con.press(restore!);
    const restored = await con.waitFor(res.messageKey!, 90_000);
    expect(restored.fields?.map((f) => f.name)).toEqual(expect.arrayContaining(['ok stop_gateway', 'ok container_restore_config_backup', 'ok start_gateway']));
    expect(await readFile(path.join(S, 'openclaw.json'), 'utf8')).toContain('"from":"container-backup"');
    const ranRestore = (await h.standin.calls()).map((argv) => argv.join(' '));
    expect(ranRestore.some((c) => c.startsWith('docker run -d ') && c.includes('--volumes-from openclaw'))).toBe(true);
    expect(JSON.stringify(restored)).not.toContain('standin-env-secret-5b8e');
  }, 180_000);
});

