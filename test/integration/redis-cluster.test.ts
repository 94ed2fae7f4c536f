/**
 * Issue 13.6: Redis Cluster, and the master of clawmedic's slot killed (-9) while clawmedic works. Real processes: three
 * masters and three replicas (`--cluster-enabled yes`, AOF, appendfsync always) joined by `redis-cli --cluster create`;
 * clawmedic configured with `redis.cluster` only (its keys then live under the hash tag `{<keyPrefix>}`); the real
 * grammY adapter against the Telegram stand-in; a real sshd with the host stand-in. A fix goes through first; then the
 * master dies in the middle of a fix step and, once it is back as a replica, its successor dies in the middle of an
 * alert: the fix runs once and says it waited for Redis, the audit trail keeps every record, the alert arrives once,
 * and every key the app wrote hashes to one slot.
 */
import { writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/app-harness.js';
import { failurePair } from '../support/monitor-harness.js';
import { startClusterDeployment, type ClusterDeployment } from '../support/redis-cluster.js';
import { scanKeys } from '../support/redis-scan.js';
import { startTelegramStandin, type SeenMessage, type TelegramStandin } from '../support/telegram/telegram-standin.js';
import { uniquePrefix } from '../support/redis.js';
import { readProbes } from '../../src/state/probe-results.js';

const OPERATOR = 1001;
const FIX_GROUP = -3101;
const ALERT_GROUP = -3102;
/** Seconds `openclaw doctor --fix` takes on the stand-in: long enough to kill the master while it runs. */
const SLOW_DOCTOR_SEC = 4;
/**
 * A graceful shutdown after the failovers returns within this (it hung for good before: BullMQ's worker reconnecting
 * its blocking connection awaited an ioredis Cluster connect() that never settled). It takes ~50 ms when nothing hangs.
 */
const SHUTDOWN_BOUND_MS = 10_000;
const WAITED_NOTE = /Redis was unreachable for [\d.]+ m?s during this fix \(restart or failover\); clawmedic waited for it and went on\. Each step ran once\./;

let cd: ClusterDeployment;
let tg: TelegramStandin;
let h: Harness;
const keyPrefix = uniquePrefix('cluster');
/** What the app writes under: the key prefix as a hash tag. */
const tag = `{${keyPrefix}}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const titleOf = (m: SeenMessage | undefined): string => m?.text?.split('\n')[0] ?? '';
const ran = async (): Promise<string[]> => (await h.standin.calls()).map((argv) => argv.join(' '));
/** The monitor's tick (monitorTuning.tickMs below): how soon a stored probe result is applied. */
const TICK_MS = 200;
/** How many probe results of prod the monitor has stored so far. */
const probeSeq = async (): Promise<number> => (await readProbes(h.app.redis, h.keys, ['prod']))[0]?.seq ?? 0;

/** What the groups, the audit trail and the queues show: the message of a failing wait. */
async function state(): Promise<string> {
  const titles = (chat: number) => tg.messagesIn(chat).map((m) => `${m.message_id} ${titleOf(m)}`).join(' | ');
  const trail = await h.app.audit.recent(undefined, 40).then((r) => r.map((e) => `${e.at} ${e.event} ${e.action} ${e.host ?? ''} ${(e.detail ?? '').slice(0, 80)}`).reverse().join('\n'), (e: Error) => e.message);
  const counts = await Promise.all(
    [h.app.queues.fix, h.app.queues.notify.telegram].map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed').then((c) => `${q.name} ${JSON.stringify(c)}`, (e: Error) => e.message)),
  );
  return [`fix group: ${titles(FIX_GROUP)}`, `alert group: ${titles(ALERT_GROUP)}`, `workers running: ${h.app.workers.map((w) => w.isRunning()).join(',')}; producer ${h.app.redis.status}`, ...counts, trail, (await ran()).join('\n')].join('\n');
}

/** tg.waitFor that says what it saw when it times out. */
async function waitTg<T>(what: string, fn: () => T | undefined | null | false, ms: number): Promise<T> {
  try {
    return await tg.waitFor(fn, ms, what);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await state()}\n${cd.logs().slice(-4000)}`);
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** /fix prod from the operator, Confirm pressed: resolves with the plan message (edited in place with the outcome). */
async function confirmFix(): Promise<SeenMessage> {
  await h.standin.setScenario('gateway_down');
  const asked = await tg.userSends(FIX_GROUP, OPERATOR, '/fix prod', { chatType: 'supergroup', firstName: 'Ada' });
  const plan = await waitTg('the fix plan', () => tg.messagesIn(FIX_GROUP).find((m) => m.message_id > asked && m.buttons.length > 0), 30_000);
  const confirm = plan.buttons.find((b) => /^Confirm fix$/.test(b.text));
  expect(confirm, `${plan.text} ${JSON.stringify(plan.buttons)}`).toBeDefined();
  await tg.userPresses(FIX_GROUP, OPERATOR, plan.message_id, confirm!.data);
  return plan;
}

const outcomeOf = (plan: SeenMessage) => () => tg.messagesIn(FIX_GROUP).find((m) => m.message_id === plan.message_id && /prod: (fixed|fix failed|not fixed)/.test(titleOf(m)));

beforeAll(async () => {
  // Node timeout 2 s: a replica is promoted ~3-4 s after its master dies. Shorter risks a healthy master being
  // voted out on a busy machine (a ping answered late), which would lose what it had just accepted.
  cd = await startClusterDeployment({ nodeTimeoutMs: 2000 });
  tg = await startTelegramStandin();
  tg.addChat(ALERT_GROUP, 'supergroup', 'alerts');
  h = await startHarness({
    app: {
      adapters: ['console', 'telegram'],
      monitor: true,
      verifyWindowSec: 1,
      monitorTuning: { tickMs: TICK_MS, backoffMinMs: 200, backoffMaxMs: 1000, probeIntervalMs: 1000, blindNoticeAfterMs: 60_000 },
    },
    // REDIS_URL names one of the nodes (it would carry the user and password); the rest is learned from it.
    secrets: { telegramToken: tg.token, redisUrl: `redis://127.0.0.1:${cd.nodes[0]!.port}`, redisUrlSet: true },
    extra: {
      redis: { keyPrefix, cluster: cd.nodes },
      telegram: { mode: 'polling', apiRoot: tg.apiRoot },
      people: [
        { platform: 'console', userId: 'local', role: 'admin' },
        { platform: 'telegram', userId: OPERATOR, role: 'operator', name: 'Ada' },
      ],
      chats: [
        { platform: 'telegram', chatId: FIX_GROUP, hosts: ['prod'], alerts: false },
        { platform: 'telegram', chatId: ALERT_GROUP, hosts: ['prod'], alerts: true },
      ],
      alerts: { fireAfterEvents: 3, fireWindowSec: 60, resolveAfterSec: 600, reminderIntervalSec: 600, probeFailuresToFire: 2, probeIntervalSec: 1 },
      fix: { maxAttemptsPerHour: 20, verifyWindowSec: 1 },
    },
  });
  expect(h.prefix).toBe(tag);
  await until('the monitor to follow prod', () => h.app.monitor?.ownedHosts().includes('prod'), 15_000);
  await sleep(1500);
}, 60_000);

afterAll(async () => {
  await rm(path.join(h?.standin.stateDir ?? '/nonexistent', 'slow-doctor'), { force: true });
  // Bounded even if the shutdown test below failed, so the cluster is still torn down.
  await Promise.race([h?.close(), sleep(SHUTDOWN_BOUND_MS)]);
  await tg?.stop();
  if (process.env.CLUSTER_LOGS) console.log(cd?.logs());
  await cd?.dispose();
});

describe('Redis Cluster failover', () => {
  it('a fix goes through the cluster, and says nothing about Redis when nothing happened', async () => {
    await h.standin.clearCalls();
    const plan = await confirmFix();
    const outcome = await waitTg('the fix outcome', outcomeOf(plan), 45_000);
    expect(titleOf(outcome)).toMatch(/prod: fixed/);
    expect(outcome.text).not.toMatch(/Redis was unreachable/);
    expect((await ran()).filter((c) => c === 'openclaw doctor --fix')).toHaveLength(1);
  }, 60_000);

  it('the master of the slot killed mid-fix: the fix runs once, the group is told it waited, the audit trail is whole', async () => {
    await h.standin.clearCalls();
    await writeFile(path.join(h.standin.stateDir, 'slow-doctor'), String(SLOW_DOCTOR_SEC));
    const plan = await confirmFix();

    // doctor --fix has started on the host (it takes SLOW_DOCTOR_SEC): kill the master of clawmedic's slot now.
    await until('doctor --fix to start', async () => (await ran()).includes('openclaw doctor --fix'), 30_000);
    const killedAt = Date.now();
    const old = await cd.killOwnerOf(tag);
    const fresh = await cd.waitForNewOwner(tag, old);
    const failoverMs = Date.now() - killedAt;

    const outcome = await waitTg('the fix outcome', outcomeOf(plan), 45_000);
    console.log(`cluster failover mid-fix: master ${old} → ${fresh} in ${failoverMs} ms; outcome "${titleOf(outcome)}" ${Date.now() - killedAt} ms after the kill`);
    await rm(path.join(h.standin.stateDir, 'slow-doctor'), { force: true });
    expect(titleOf(outcome)).toMatch(/prod: fixed/);
    // The group is told that clawmedic had to wait for Redis and went on.
    expect(outcome.text).toMatch(WAITED_NOTE);
    const calls = await ran();
    expect(calls.filter((c) => c === 'openclaw doctor --fix')).toHaveLength(1);
    expect(calls.filter((c) => /^systemctl --user start/.test(c))).toHaveLength(1);
    // The outcome is sent first, then recorded: wait for the record.
    const jobId = (await until('the fix_outcome record', async () => {
      const r = await h.app.audit.recent('prod', 100);
      return r.find((e) => e.event === 'fix_outcome' && Date.parse(e.at) >= killedAt)?.jobId;
    }, 15_000))!;
    const records = (await h.app.audit.recent('prod', 200)).filter((e) => e.jobId === jobId);
    const trail = records.map((e) => e.event);
    expect(trail).toEqual(expect.arrayContaining(['job_started', 'fix_outcome']));
    // One step record per step of the plan, none lost, none doubled.
    expect(records.filter((e) => e.event === 'step').map((e) => e.action).reverse(), records.map((e) => `${e.at} ${e.event} ${e.action}`).join('\n')).toEqual(
      ['stop_gateway', 'doctor_fix', 'start_gateway', 'wait_for_gateway'],
    );
    expect(trail.filter((e) => e === 'fix_outcome')).toHaveLength(1);

    // The same job handed out again, as BullMQ does when a failover lost its completion: nothing runs, nothing is said.
    await until('the fix job to complete', async () => (await h.app.queues.fix.getJobState(jobId)) === 'completed', 30_000);
    await (await h.app.queues.fix.getJob(jobId))!.retry('completed');
    await until('the handed-out-again job to finish', async () => (await h.app.queues.fix.getJob(jobId))?.finishedOn && (await h.app.queues.fix.getJobState(jobId)) === 'completed', 30_000);
    expect((await h.app.queues.fix.getJob(jobId))!.returnvalue).toBe('fixed');
    expect((await ran()).filter((c) => c === 'openclaw doctor --fix')).toHaveLength(1);
    expect(tg.messagesIn(FIX_GROUP).find((m) => m.message_id === plan.message_id)!.text).toBe(outcome.text);
    expect((await h.app.audit.recent('prod', 200)).filter((e) => e.event === 'step' && e.jobId === jobId)).toHaveLength(4);

    // The killed node is started again, as its supervisor would: it rejoins as the replica of its successor.
    await cd.restart(old, tag);
  }, 90_000);

  it('the new master killed mid-alert: the alert reaches the group once, its delivery is audited', async () => {
    const isAlert = (m: SeenMessage) => /ALERT: prod: clients present a wrong gateway token/.test(titleOf(m));
    expect(tg.messagesIn(ALERT_GROUP).filter(isAlert)).toHaveLength(0);
    await h.standin.appendLog(['http://localhost:18789', 'https://claw.example.com', 'http://10.0.0.7:18789'].flatMap((origin) => failurePair({ origin })));
    const killedAt = Date.now();
    const old = await cd.killOwnerOf(tag);
    const fresh = await cd.waitForNewOwner(tag, old);
    const failoverMs = Date.now() - killedAt;
    const alert = await waitTg('the alert', () => tg.messagesIn(ALERT_GROUP).find(isAlert), 45_000);
    console.log(`cluster failover mid-alert: master ${old} → ${fresh} in ${failoverMs} ms; alert in the group ${Date.now() - killedAt} ms after the kill`);
    const incident = /incident (\S+)/.exec(alert.text ?? '')?.[1];
    expect(incident).toMatch(/^prod\.token_mismatch\./);
    // A duplicate, if one were coming, would be a delivery handed out again (its job not yet completed) or a second
    // incident (the monitor evaluating prod again after the failover). Instead of a fixed 5 s: wait until no delivery
    // of the incident is waiting, active or delayed, and the monitor has stored two more probe rounds of prod (each
    // one re-evaluated within a 200 ms tick), then look.
    const seqAtAlert = await probeSeq();
    await until(
      'the alert deliveries to settle and two more probe rounds of prod',
      async () => {
        const open = (await h.app.queues.notify.telegram.getJobs(['waiting', 'active', 'delayed'])).filter((j) => j.data.messageKey?.includes(incident!));
        return open.length === 0 && (await probeSeq()) >= seqAtAlert + 2;
      },
      30_000,
    );
    await sleep(TICK_MS);
    const deliveryJobs = async () =>
      (await h.app.queues.notify.telegram.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed'])).filter((j) => j.data.messageKey?.includes('incident')).map((j) => `${j.id} seq ${(j.data as { seq?: number }).seq} attempts ${j.attemptsMade} ${j.failedReason ?? ''} ${j.data.messageKey}`).join('\n');
    expect(tg.messagesIn(ALERT_GROUP).filter(isAlert).map((m) => m.message_id), `${await deliveryJobs()}\n${await state()}`).toEqual([alert.message_id]);
    const sends = tg.calls('sendMessage').filter((c) => c.status === 200 && Number(c.params.chat_id) === ALERT_GROUP && String(c.params.text).includes(incident!));
    expect(sends).toHaveLength(1);
    const deliveries = (await h.app.audit.recent(undefined, 300)).filter((e) => e.action === 'deliver' && (e.detail ?? '').includes(incident!));
    expect(deliveries.some((e) => e.event === 'delivered')).toBe(true);
    expect(deliveries.some((e) => e.event === 'undelivered')).toBe(false);
  }, 90_000);

  it('every key the app wrote lives under the hash tag, in one slot', async () => {
    const keys = [...(await scanKeys(h.app.redis, '*'))];
    // Queues, audit streams, incidents, leases, buttons, heartbeats... all of them.
    expect(keys.length).toBeGreaterThan(20);
    expect(keys.filter((k) => !k.startsWith(`${tag}:`))).toEqual([]);
    // BullMQ's fix queue, then two of KeySpace's names.
    for (const needle of [`${tag}:fix:`, h.keys.audit(), h.keys.button('')]) expect(keys.some((k) => k.startsWith(needle)), needle).toBe(true);
    const slots = new Set(await cd.on(await cd.ownerOf(tag), (r) => Promise.all(keys.map(async (k) => Number(await r.call('CLUSTER', 'KEYSLOT', k))))));
    expect(slots.size).toBe(1);
  }, 30_000);

  it('a graceful shutdown after the failovers returns, no job running', async () => {
    const started = Date.now();
    const closed = await Promise.race([h.close().then(() => true), sleep(SHUTDOWN_BOUND_MS).then(() => false)]);
    const ms = Date.now() - started;
    console.log(`cluster: app.close() after two failovers took ${ms} ms`);
    expect(closed, `app.close() did not return within ${SHUTDOWN_BOUND_MS} ms`).toBe(true);
  }, 30_000);
});
