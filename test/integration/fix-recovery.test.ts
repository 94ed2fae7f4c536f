/**
 * The parts behind "a fix interrupted by a dead process is found at once" (issue 13.2), against a
 * real Redis: who counts as dead, what the requester is told for each host state, and a progress
 * record written in Redis by someone else (no valid signature) is refused, never acted on.
 */
import { spawnSync } from 'node:child_process';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/state/audit-log.js';
import { AUTOFIX_USER_ID } from '../../src/constants.js';
import type { HostConfig } from '../../src/domain/host.js';
import type { Delivery } from '../../src/domain/types.js';
import { FixRecovery } from '../../src/jobs/fix-recovery.js';
import { FixRunStore } from '../../src/state/fix-runs.js';
import type { HostOps, HostStatus } from '../../src/domain/host-ops.js';
import { Inflight } from '../../src/state/inflight.js';
import type { Notifier } from '../../src/jobs/notifier.js';
import { newProcessOwner, ProcessRegistry } from '../../src/jobs/process-registry.js';
import type { ProcessOwner } from '../../src/domain/types.js';
import { acquireHostLock, getHostLockHolder } from '../../src/state/host-lock.js';
import { ButtonStore } from '../../src/state/button-store.js';
import { JobSigner } from '../../src/util/job-signer.js';
import { createLogger } from '../../src/util/logger.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { KeySpace } from '../../src/state/key-space.js';

const prefix = uniquePrefix('frec');
const keys = new KeySpace(prefix);
const signer = JobSigner.ephemeral();
let redis: Redis;
let queue: Queue;

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL);
  queue = new Queue('fix', { connection: redis.duplicate(), prefix });
});
afterAll(async () => {
  await queue?.close();
  redis?.disconnect();
  await cleanupPrefix(prefix);
});

const fast = { heartbeatMs: 100, heartbeatTtlMs: 300 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('who counts as dead', () => {
  it('this process: alive while its registry runs, dead after; a gone pid on this machine: dead at once', async () => {
    const me = new ProcessRegistry(redis, keys, newProcessOwner(), fast);
    await me.start();
    const other = new ProcessRegistry(redis, keys, newProcessOwner(), fast);
    await other.start();
    expect(await me.liveness(other.self)).toBe('alive');
    await other.stop();
    expect(await me.liveness(other.self)).toBe('dead');
    // A process that has exited on this machine, its heartbeat still fresh in Redis.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const ghost: ProcessOwner = { ...me.self, id: `x:${gone.stdout}:dead`, pid: Number(gone.stdout) };
    await redis.set(keys.heartbeat(ghost.id), '{}', 'PX', 60_000);
    expect(await me.liveness(ghost)).toBe('dead');
    await me.stop();
  });

  it('another machine: its heartbeat decides, once this process has seen Redis for a whole TTL', async () => {
    const elsewhere: ProcessOwner = { id: 'far:42:abc', hostname: 'far', pid: 42, machine: 'another-machine' };
    const fresh = new ProcessRegistry(redis, keys, newProcessOwner(), { heartbeatMs: 100, heartbeatTtlMs: 60_000 });
    await fresh.start();
    // Just (re)connected: every heartbeat may have expired while Redis was away, so nobody is called dead yet.
    expect(await fresh.liveness(elsewhere)).toBe('unknown');
    await fresh.stop();
    const steady = new ProcessRegistry(redis, keys, newProcessOwner(), fast);
    await steady.start();
    await redis.set(keys.heartbeat(elsewhere.id), '{}', 'PX', 250);
    expect(await steady.liveness(elsewhere)).toBe('alive');
    await sleep(400);
    expect(await steady.liveness(elsewhere)).toBe('dead');
    await steady.stop();
  });
});

describe('closing an interrupted fix', () => {
  const host = { name: 'prod' } as HostConfig;
  const hosts = new Map([['prod', host]]);
  const chat = { platform: 'telegram' as const, chatId: '-100', isGroup: true };
  const actor = { platform: 'telegram' as const, userId: '101', displayName: 'alice' };

  function rig(status: Partial<HostStatus>) {
    const sent: Delivery[] = [];
    const held: string[] = [];
    const ops = {
      status: async () => ({ host: 'prod', reachable: true, probeOk: false, durationMs: 1, ...status }),
      bringBackPlan: () => ({ host: 'prod', cause: 'gateway_down', steps: [], userActions: [], disruptive: true, verifyWindowSec: 1 }),
    } as unknown as HostOps;
    const registry = new ProcessRegistry(redis, keys, newProcessOwner(), fast);
    const runs = new FixRunStore(redis, keys, signer);
    const recovery = new FixRecovery({
      redis,
      keys,
      runs,
      registry,
      fixQueue: queue as never,
      hosts,
      ops,
      notifier: { send: async (d: Delivery) => void sent.push(d) } as unknown as Notifier,
      buttons: new ButtonStore(redis, keys, signer),
      audit: new AuditLog(redis, keys),
      inflight: new Inflight(redis, keys),
      releaseAlertHold: async (h) => void held.push(h),
      logger: createLogger('silent'),
    });
    return { sent, held, registry, runs, recovery };
  }

  const deadOwner = (registry: ProcessRegistry): ProcessOwner => ({ ...registry.self, id: 'gone:1:x', pid: process.pid });

  it('gateway up again, not stopped by the fix: told where it stopped, no button, host released', async () => {
    const { sent, held, registry, runs, recovery } = rig({ probeOk: true, version: '2026.9.6' });
    await registry.start();
    await runs.begin({ jobId: 'fix-a', host: 'prod', cause: 'token_mismatch', owner: deadOwner(registry), origin: { actor, chat, messageKey: 'job:fix-a' }, steps: ['remove_token_override', 'restart_gateway', 'wait_for_gateway'] });
    await runs.stepStarted('fix-a', 0);
    await acquireHostLock(redis, keys, 'prod', { jobId: 'fix-a', action: 'fix' }, 60_000);
    await new Inflight(redis, keys).claim('fix', 'prod', { jobId: 'fix-a', startedBy: 'alice', startedAt: '' });

    const done = await recovery.scan();
    expect(done.map((d) => [d.jobId, d.gatewayStopped, d.offeredBringBack])).toEqual([['fix-a', false, false]]);
    expect(sent.map((d) => d.reply.title)).toEqual([
      'The fix on prod was interrupted at step 1/3 (remove the --token override) because the worker stopped. Checking the host…',
      'prod: fix interrupted; the gateway is up',
    ]);
    expect(sent.every((d) => d.messageKey === 'job:fix-a' && d.chat.chatId === '-100')).toBe(true);
    expect(held).toEqual(['prod']);
    expect(await getHostLockHolder(redis, keys, 'prod')).toBeNull();
    expect(await redis.exists(keys.inflight('fix', 'prod'))).toBe(0);
    expect(await runs.ids()).toEqual([]);
    expect(await runs.wasRecovered('fix-a')).toBe(true);
    // Done once: the next scan finds nothing.
    expect(await recovery.scan()).toEqual([]);
    await recovery.close();
    await registry.stop();
  });

  it('gateway down after the fix stopped it: Bring it back, bound to the requester', async () => {
    const { sent, registry, runs, recovery } = rig({ probeOk: false, probeError: 'connect ECONNREFUSED 127.0.0.1:18789' });
    await registry.start();
    await runs.begin({ jobId: 'fix-b', host: 'prod', cause: 'gateway_down', owner: deadOwner(registry), origin: { actor, chat, messageKey: 'job:fix-b' }, steps: ['stop_gateway', 'doctor_fix', 'start_gateway', 'wait_for_gateway'] });
    await runs.stepStarted('fix-b', 0);
    await runs.stepEnded('fix-b', 0, true);
    await runs.stepStarted('fix-b', 1);
    const [done] = await recovery.scan();
    expect(done).toMatchObject({ gatewayStopped: true, offeredBringBack: true });
    const last = sent.at(-1)!.reply;
    expect(last.title).toBe('prod: fix interrupted; the gateway is down');
    expect(last.body?.join('\n')).toContain('interrupted at step 2/4 (doctor --fix)');
    const button = last.buttons!.find((b) => b.action === 'bring_back')!;
    expect(button.label).toBe('Bring it back');
    const state = await new ButtonStore(redis, keys, signer).peek(button.token);
    expect(state).toMatchObject({ action: 'bring_back', host: 'prod', boundUserId: '101', chatId: '-100' });
    await recovery.close();
    await registry.stop();
  });

  it('after an auto-fix (no person asked), Bring it back is bound to nobody: any operator of the chat may press it', async () => {
    const { sent, registry, runs, recovery } = rig({ probeOk: false });
    await registry.start();
    const bot = { platform: 'telegram' as const, userId: AUTOFIX_USER_ID, displayName: 'clawmedic auto-fix' };
    await runs.begin({ jobId: 'fix-d', host: 'prod', cause: 'crash_loop', owner: deadOwner(registry), origin: { actor: bot, chat, messageKey: '' }, steps: ['restart_gateway', 'wait_for_gateway'] });
    await runs.stepStarted('fix-d', 0);
    await recovery.scan();
    const button = sent.at(-1)!.reply.buttons!.find((b) => b.action === 'bring_back')!;
    const state = await new ButtonStore(redis, keys, signer).peek(button.token);
    expect(state).toMatchObject({ action: 'bring_back', host: 'prod' });
    expect((state as { boundUserId?: string }).boundUserId).toBeUndefined();
    await recovery.close();
    await registry.stop();
  });

  it('a record written in Redis without a valid signature is refused, audited and removed; nothing is sent', async () => {
    const { sent, registry, runs, recovery } = rig({});
    await registry.start();
    const forged = { jobId: 'fix-c', host: 'prod', cause: 'gateway_down', owner: deadOwner(registry), origin: { actor, chat, messageKey: 'job:fix-c' }, steps: ['stop_gateway'], step: 0, gatewayStopped: true, startedAt: 0, sig: '0'.repeat(64) };
    await redis.multi().set(keys.fixRun('fix-c'), JSON.stringify(forged)).sadd(keys.fixRunIndex(), 'fix-c').exec();
    expect(await recovery.scan()).toEqual([]);
    expect(sent).toEqual([]);
    expect(await runs.ids()).toEqual([]);
    const trail = await new AuditLog(redis, keys).recent(undefined, 10);
    expect(trail.some((e) => e.event === 'refused' && e.jobId === 'fix-c')).toBe(true);
    await recovery.close();
    await registry.stop();
  });
});
