/**
 * Issue 12 item 1: nothing stored in Redis can make a host run a command. Forged, unsigned and
 * edited fix jobs and button states are written straight into Redis / the fix queue of a running
 * clawmedic (real Redis, real fix worker, real sshd). Each must be refused and audited, and the
 * canary file its script would create on the host must not appear.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '../../src/constants.js';
import { sealFixJob } from '../../src/jobs/fix-job-guard.js';
import type { FixJobData } from '../../src/jobs/payloads.js';
import { JobSigner } from '../../src/util/job-signer.js';
import { startHarness, type Harness } from '../support/app-harness.js';
import { waitFor } from '../support/monitor-harness.js';

let h: Harness;
let dir: string;
let signer: JobSigner;
beforeAll(async () => {
  h = await startHarness({ app: { verifyWindowSec: 1 } });
  dir = await mkdtemp(path.join(tmpdir(), 'clawmedic-forgery-'));
  signer = new JobSigner(h.loaded.secrets.jobKey!);
}, 60_000);
afterAll(async () => {
  await h?.close();
  await rm(dir, { recursive: true, force: true });
});

const canary = (name: string) => path.join(dir, name);
const origin = (requestId: string) => ({
  requestId,
  actor: { platform: 'console' as const, userId: 'local' },
  chat: { platform: 'console' as const, chatId: 'console', isGroup: false },
  messageKey: `job:fix-${requestId}`,
});

/** Wait until the fix worker has finished with a job; its return value ('refused' when the guard stopped it). */
async function settled(jobId: string): Promise<unknown> {
  let value: unknown;
  const done = await waitFor(async () => {
    const job = await h.app.queues.fix.getJob(jobId);
    const state = await job?.getState();
    if (state === 'completed' || state === 'failed') {
      value = state === 'completed' ? job!.returnvalue : `failed: ${job!.failedReason}`;
      return true;
    }
    return false;
  }, 30_000);
  expect(done, `job ${jobId} was not processed`).toBe(true);
  return value;
}

async function refusals(jobId?: string) {
  return (await h.app.audit.recent(undefined, 200)).filter((r) => r.event === 'refused' && (jobId === undefined || r.jobId === jobId));
}

describe('stored plans and queued fixes cannot run a command of their own', () => {
  it('control: the canary script does create its file when the host runs it', async () => {
    // Proves the canary checks below can fail: the same script, run as a step, creates the file.
    const file = canary('control');
    const host = h.loaded.hosts[0]!;
    const result = await h.app.ops.runStep(host, { kind: 'start_gateway', description: 'control', script: `touch '${file}'`, timeoutMs: 10_000, mutates: true });
    expect(result.exitCode).toBe(0);
    expect(existsSync(file)).toBe(true);
  }, 30_000);

  it('refuses an unsigned job carrying a script (the pre-fix job format)', async () => {
    const file = canary('unsigned');
    const jobId = 'fix-forged-unsigned';
    await h.app.queues.fix.add(
      'fix',
      {
        ...origin('forged-unsigned'),
        host: 'prod',
        plan: {
          host: 'prod',
          cause: 'gateway_down',
          steps: [{ kind: 'start_gateway', description: 'start the gateway', script: `touch '${file}'`, timeoutMs: 10_000, mutates: true }],
          userActions: [],
          disruptive: true,
          verifyWindowSec: 1,
        },
      } as unknown as FixJobData,
      { jobId },
    );
    expect(await settled(jobId)).toBe('refused');
    expect(existsSync(file)).toBe(false);
    const [rec] = await refusals(jobId);
    expect(rec?.detail).toMatch(/not signed/);
    expect(rec?.host).toBe('prod');
  }, 40_000);

  it('refuses a signed job whose data was edited in Redis before it ran', async () => {
    const file = canary('edited-job');
    const jobId = 'fix-forged-edited';
    const sealed = sealFixJob(signer, jobId, {
      ...origin('forged-edited'),
      host: 'prod',
      plan: { host: 'prod', cause: 'plugin_failure', steps: [{ kind: 'disable_plugin', params: { pluginId: 'memory-lancedb' } }], userActions: [], disruptive: true, verifyWindowSec: 1 },
    });
    // Delayed so the edit lands before the worker picks it up.
    await h.app.queues.fix.add('fix', sealed, { jobId, delay: 60_000 });
    const edited = { ...sealed, plan: { ...sealed.plan, steps: [{ kind: 'disable_plugin', params: { pluginId: `x$(touch '${file}')` } }] } };
    // BullMQ names its own job keys (`<prefix>:<queue>:<id>`) under the prefix KeySpace gives it.
    await h.app.redis.hset(`${h.keys.prefix}:${QUEUES.fix}:${jobId}`, 'data', JSON.stringify(edited));
    await (await h.app.queues.fix.getJob(jobId))!.promote();
    expect(await settled(jobId)).toBe('refused');
    expect(existsSync(file)).toBe(false);
    const [rec] = await refusals(jobId);
    expect(rec?.detail).toMatch(/signature does not match/);
  }, 40_000);

  it('refuses a job signed with another key', async () => {
    const file = canary('other-key');
    const jobId = 'fix-forged-otherkey';
    const sealed = sealFixJob(JobSigner.ephemeral(), jobId, {
      ...origin('forged-otherkey'),
      host: 'prod',
      plan: { host: 'prod', cause: 'gateway_down', steps: [{ kind: 'start_gateway' }], userActions: [], disruptive: true, verifyWindowSec: 1 },
    });
    // The stored plan has no script; the canary stands for "the start command ran at all".
    await h.standin.setScenario('gateway_down');
    await h.app.queues.fix.add('fix', { ...sealed, plan: { ...sealed.plan, steps: [{ kind: 'start_gateway', script: `touch '${file}'` }] } } as unknown as FixJobData, { jobId });
    expect(await settled(jobId)).toBe('refused');
    expect(existsSync(file)).toBe(false);
    expect((await refusals(jobId)).length).toBe(1);
  }, 40_000);

  it('refuses a correctly signed job whose parameters fail validation (scripts are rebuilt, never trusted)', async () => {
    const file = canary('bad-params');
    const cases: Array<[string, unknown]> = [
      ['pluginId', { kind: 'disable_plugin', params: { pluginId: `a;touch '${file}'` } }],
      ['pid', { kind: 'kill_port_owner', params: { pid: `1; touch '${file}'` } }],
      ['script', { kind: 'start_gateway', script: `touch '${file}'` }],
      ['unknown kind', { kind: 'run_shell', params: {} }],
    ];
    for (const [name, step] of cases) {
      const jobId = `fix-forged-params-${name.replace(/\W/g, '')}`;
      const data = sealFixJob(signer, jobId, {
        ...origin(jobId),
        host: 'prod',
        plan: { host: 'prod', cause: 'plugin_failure', steps: [step], userActions: [], disruptive: true, verifyWindowSec: 1 } as unknown as FixJobData['plan'],
      });
      await h.app.queues.fix.add('fix', data, { jobId });
      expect(await settled(jobId), name).toBe('refused');
      const [rec] = await refusals(jobId);
      expect(rec?.detail, name).toMatch(/stored plan refused at steps\.0/);
    }
    expect(existsSync(file)).toBe(false);
  }, 90_000);

  it('refuses a confirm button whose stored plan was edited in Redis, and runs nothing', async () => {
    const file = canary('button');
    await h.standin.setScenario('gateway_down');
    const con = h.app.console!;
    const first = await con.input('/fix prod');
    const shown = await con.waitFor(first.messageKey!, 30_000);
    const confirm = shown.buttons!.find((b) => b.action === 'confirm')!;
    const key = h.keys.button(confirm.token);
    const state = JSON.parse((await h.app.redis.get(key))!) as { plan: { steps: Array<Record<string, unknown>> } };
    // What is stored is kinds and parameters only.
    expect(JSON.stringify(state.plan)).not.toMatch(/script|systemctl/);
    state.plan.steps = [{ kind: 'disable_plugin', params: { pluginId: `p$(touch '${file}')` } }];
    await h.app.redis.set(key, JSON.stringify(state), 'KEEPTTL');
    const before = await h.app.queues.fix.count();
    const pressed = await con.press(confirm);
    expect(pressed.reply.title).toMatch(/cannot be used/);
    // Refused before anything was queued: no job exists that could run later.
    expect(await h.app.queues.fix.count()).toBe(before);
    expect(existsSync(file)).toBe(false);
    const rec = (await refusals()).find((r) => r.action === 'button');
    expect(rec?.detail).toMatch(/signature/);
  }, 60_000);
});
