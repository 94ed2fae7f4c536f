/**
 * A remote command that hangs past its deadline: /status answers with a clear timeout instead of
 * hanging, the remote process is killed, and clawmedic stays usable for the next command.
 */
import { writeFile, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/app-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ extra: { jobs: { commandTimeoutSec: 2 } } });
}, 60_000);
afterAll(async () => {
  await rm(path.join(h.standin.stateDir, 'hang'), { force: true });
  await h?.close();
});

/** Processes of the stand-in's wedged `sleep 311`, if any still run. */
function hungSleeps(): string[] {
  try {
    return execFileSync('pgrep', ['-f', '^sleep 311$']).toString().trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

describe('hung remote command', () => {
  it('/status times out cleanly, the remote command is killed, the next /status works', async () => {
    await h.standin.setScenario('healthy');
    await writeFile(path.join(h.standin.stateDir, 'hang'), '');
    const con = h.app.console!;
    const started = Date.now();
    const res = await con.input('/status prod');
    const reply = await con.waitFor(res.messageKey!, 30_000);
    expect(reply.title).toBe('prod: UNREACHABLE');
    expect(reply.body?.join('\n')).toContain('SSH command timed out after 2 s');
    expect(Date.now() - started).toBeLessThan(10_000);
    // The watchdog kills the remote command shortly after the deadline.
    const deadline = Date.now() + 8_000;
    while (hungSleeps().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(hungSleeps()).toEqual([]);

    await rm(path.join(h.standin.stateDir, 'hang'));
    const again = await con.input('/status prod');
    expect((await con.waitFor(again.messageKey!, 30_000)).title).toBe('prod: OK');
  }, 60_000);
});
