/**
 * Issue 13.6: Redis behind Sentinel, and the master killed (-9) while clawmedic works. Real processes: a master, two
 * replicas (AOF, appendfsync always) and three sentinels on loopback; clawmedic configured with `redis.sentinels`
 * only; the real grammY adapter against the Telegram stand-in; a real sshd with the host stand-in. The master dies in
 * the middle of a fix step and then, after the first failover, in the middle of an alert: the fix runs once and
 * its result reaches the group, the audit trail keeps every record, and the alert arrives once.
 */
import { writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/app-harness.js';
import { failurePair } from '../support/monitor-harness.js';
import { startSentinelDeployment, type SentinelDeployment } from '../support/redis-sentinel.js';
import { startTelegramStandin, type SeenMessage, type TelegramStandin } from '../support/telegram/telegram-standin.js';
import { uniquePrefix } from '../support/redis.js';
import { readProbes } from '../../src/state/probe-results.js';

const OPERATOR = 1001;
const FIX_GROUP = -3001;
const ALERT_GROUP = -3002;
/** Seconds `openclaw doctor --fix` takes on the stand-in: long enough to kill the master while it runs. */
const SLOW_DOCTOR_SEC = 4;

let sd: SentinelDeployment;
let tg: TelegramStandin;
let h: Harness;
const prefix = uniquePrefix('sentinel');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const titleOf = (m: SeenMessage | undefined): string => m?.text?.split('\n')[0] ?? '';
const ran = async (): Promise<string[]> => (await h.standin.calls()).map((argv) => argv.join(' '));
/** The monitor's tick (monitorTuning.tickMs below): how soon a stored probe result is applied. */
const TICK_MS = 200;
/** How many probe results of prod the monitor has stored so far. */
const probeSeq = async (): Promise<number> => (await readProbes(h.app.redis, h.keys, ['prod']))[0]?.seq ?? 0;

/** What the group, the audit trail and the queues show: the message of a failing wait. */
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
    throw new Error(`${(err as Error).message}\n${await state()}\n${sd.logs().slice(-4000)}`);
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

beforeAll(async () => {
  // down-after 2 s, not 1: sentinels ping every second, and with 1 s a sentinel that has just switched to the new
  // master can call it down before its first PING is answered on a busy machine, and fail over a second time
  // (a healthy master demoted: what it accepted meanwhile is gone). Seen here with 1000 ms.
  sd = await startSentinelDeployment({ downAfterMs: 2000, failoverTimeoutMs: 4000 });
  tg = await startTelegramStandin();
  tg.addChat(ALERT_GROUP, 'supergroup', 'alerts');
  h = await startHarness({
    app: {
      adapters: ['console', 'telegram'],
      monitor: true,
      verifyWindowSec: 1,
      monitorTuning: { tickMs: TICK_MS, backoffMinMs: 200, backoffMaxMs: 1000, probeIntervalMs: 1000, blindNoticeAfterMs: 60_000 },
    },
    // The host part of REDIS_URL names the master group: the sentinels say where it is.
    secrets: { telegramToken: tg.token, redisUrl: `redis://${sd.masterName}`, redisUrlSet: true },
    extra: {
      redis: { keyPrefix: prefix, sentinels: sd.sentinels, masterName: sd.masterName },
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
  await until('the monitor to follow prod', () => h.app.monitor?.ownedHosts().includes('prod'), 15_000);
  await sleep(1500);
}, 60_000);

afterAll(async () => {
  await rm(path.join(h?.standin.stateDir ?? '/nonexistent', 'slow-doctor'), { force: true });
  await h?.close();
  await tg?.stop();
  if (process.env.SENTINEL_LOGS) console.log(sd?.logs());
  await sd?.dispose();
});

describe('Redis Sentinel failover', () => {
  it('the master killed mid-fix: the fix runs once, its result reaches the group, the audit trail is whole', async () => {
    await h.standin.setScenario('gateway_down');
    await h.standin.clearCalls();
    await writeFile(path.join(h.standin.stateDir, 'slow-doctor'), String(SLOW_DOCTOR_SEC));

    const asked = await tg.userSends(FIX_GROUP, OPERATOR, '/fix prod', { chatType: 'supergroup', firstName: 'Ada' });
    const plan = await tg.waitFor(() => tg.messagesIn(FIX_GROUP).find((m) => m.message_id > asked && m.buttons.length > 0), 30_000, 'the fix plan');
    const confirm = plan.buttons.find((b) => /^Confirm fix$/.test(b.text));
    expect(confirm, `${plan.text} ${JSON.stringify(plan.buttons)}`).toBeDefined();
    await tg.userPresses(FIX_GROUP, OPERATOR, plan.message_id, confirm!.data);

    // doctor --fix has started on the host (it takes SLOW_DOCTOR_SEC): kill the master now.
    await until('doctor --fix to start', async () => (await ran()).includes('openclaw doctor --fix'), 30_000);
    const killedAt = Date.now();
    const old = await sd.killMaster();
    const fresh = await sd.waitForNewMaster(old);
    const failoverMs = Date.now() - killedAt;

    const outcome = await waitTg('the fix outcome', () => tg.messagesIn(FIX_GROUP).find((m) => m.message_id === plan.message_id && /prod: (fixed|fix failed|not fixed)/.test(titleOf(m))), 45_000);
    console.log(`sentinel failover: master ${old} → ${fresh} in ${failoverMs} ms; outcome "${titleOf(outcome)}" ${Date.now() - killedAt} ms after the kill`);
    expect(titleOf(outcome)).toMatch(/prod: fixed/);
    // The group is told that clawmedic had to wait for Redis and went on.
    expect(outcome.text).toMatch(/Redis was unreachable for [\d.]+ m?s during this fix \(restart or failover\); clawmedic waited for it and went on\. Each step ran once\./);
    const calls = await ran();
    expect(calls.filter((c) => c === 'openclaw doctor --fix')).toHaveLength(1);
    expect(calls.filter((c) => /^systemctl --user start/.test(c))).toHaveLength(1);
    // The outcome is sent first, then recorded: wait for the record.
    const records = await until('the fix_outcome record', async () => {
      const r = await h.app.audit.recent('prod', 100);
      return r.some((e) => e.event === 'fix_outcome') && r;
    }, 15_000);
    const trail = records.map((e) => e.event);
    expect(trail).toEqual(expect.arrayContaining(['confirmed', 'job_started', 'fix_outcome']));
    // One step record per step of the plan (the progress said "step 1/N"), none lost, none doubled.
    const total = Number(/step 1\/(\d+)/.exec(JSON.stringify(tg.calls()))?.[1]);
    expect(records.filter((e) => e.event === 'step').map((e) => e.action).reverse(), records.map((e) => `${e.at} ${e.event} ${e.action}`).join('\n')).toEqual(
      ['stop_gateway', 'doctor_fix', 'start_gateway', 'wait_for_gateway'].slice(0, total),
    );
    expect(trail.filter((e) => e === 'fix_outcome')).toHaveLength(1);

    // The same job handed out again, as BullMQ does when a failover lost its completion: nothing runs, nothing is said.
    const jobId = records.find((e) => e.event === 'job_started' && e.action === 'fix')!.jobId!;
    await until('the fix job to complete', async () => (await h.app.queues.fix.getJobState(jobId)) === 'completed', 30_000);
    const job = (await h.app.queues.fix.getJob(jobId))!;
    await job.retry('completed');
    await until('the handed-out-again job to finish', async () => (await h.app.queues.fix.getJob(jobId))?.finishedOn && (await h.app.queues.fix.getJobState(jobId)) === 'completed', 30_000);
    expect((await h.app.queues.fix.getJob(jobId))!.returnvalue).toBe('fixed');
    expect((await ran()).filter((c) => c === 'openclaw doctor --fix')).toHaveLength(1);
    expect(tg.messagesIn(FIX_GROUP).find((m) => m.message_id === plan.message_id)!.text).toBe(outcome.text);
    expect((await h.app.audit.recent('prod', 100)).filter((e) => e.event === 'step')).toHaveLength(total);
  }, 90_000);

  it('the new master killed mid-alert: the alert reaches the group once, its delivery is audited', async () => {
    await sd.waitForReplicas(1);
    const alertsBefore = tg.messagesIn(ALERT_GROUP).filter((m) => /ALERT: prod: clients present a wrong gateway token/.test(titleOf(m))).length;
    expect(alertsBefore).toBe(0);
    await h.standin.appendLog(['http://localhost:18789', 'https://claw.example.com', 'http://10.0.0.7:18789'].flatMap((origin) => failurePair({ origin })));
    const killedAt = Date.now();
    const old = await sd.killMaster();
    const fresh = await sd.waitForNewMaster(old);
    const failoverMs = Date.now() - killedAt;
    const alert = await waitTg('the alert', () => tg.messagesIn(ALERT_GROUP).find((m) => /ALERT: prod: clients present a wrong gateway token/.test(titleOf(m))), 45_000);
    console.log(`sentinel failover mid-alert: master ${old} → ${fresh} in ${failoverMs} ms; alert in the group ${Date.now() - killedAt} ms after the kill`);
    const incident = /incident (\S+)/.exec(alert.text ?? '')?.[1];
    expect(incident).toMatch(/^prod\.token_mismatch\./);
    // A duplicate, if one were coming, would be a delivery handed out again (its job not yet completed) or a second
    // incident (the monitor evaluating prod again after the failover). Instead of a fixed 5 s: wait until no delivery
    // of the incident is waiting, active or delayed, and the monitor has stored two more probe rounds of prod (each
    // one re-evaluated within a tick), then look.
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
    const alerts = tg.messagesIn(ALERT_GROUP).filter((m) => /ALERT: prod: clients present a wrong gateway token/.test(titleOf(m)));
    expect(alerts.map((m) => m.message_id)).toEqual([alert.message_id]);
    const sends = tg.calls('sendMessage').filter((c) => c.status === 200 && Number(c.params.chat_id) === ALERT_GROUP && String(c.params.text).includes(incident!));
    expect(sends).toHaveLength(1);
    const deliveries = (await h.app.audit.recent(undefined, 300)).filter((e) => e.action === 'deliver' && (e.detail ?? '').includes(incident!));
    expect(deliveries.some((e) => e.event === 'delivered')).toBe(true);
    expect(deliveries.some((e) => e.event === 'undelivered')).toBe(false);
  }, 90_000);
});
