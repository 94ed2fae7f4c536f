/**
 * Deliveries are routed per platform: a process that runs only the Telegram adapter never takes a
 * Discord delivery (and the reverse), so nothing is retried into the void and dropped. An alert
 * for a platform no running process serves waits until one does; its fate is audited either way.
 * Real Redis, real BullMQ queues and workers; two "processes" = two sets of connections and workers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createQueues, type Queues } from '../../src/jobs/queues.js';
import { Notifier } from '../../src/jobs/notifier.js';
import { startNotifyWorker, deliveryBackoffMs, type NotifyWorkers } from '../../src/jobs/notify-worker.js';
import { SecretBox } from '../../src/util/secret-box.js';
import { AuditLog } from '../../src/state/audit-log.js';
import { PermanentDeliveryError } from '../../src/domain/errors.js';
import type { ChatAdapter } from '../../src/domain/ports.js';
import { DELIVERY } from '../../src/constants.js';
import { createLogger } from '../../src/util/logger.js';
import type { ChatRef, Delivery, Platform } from '../../src/domain/types.js';
import { CapturingAdapter } from '../support/monitor-harness.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { KeySpace } from '../../src/state/key-space.js';

const prefix = uniquePrefix('notify-routing');
const keys = new KeySpace(prefix);
/** One install's key: every process of the test shares it, as they share CLAWMEDIC_JOB_KEY. */
const box = SecretBox.ephemeral();
const logger = createLogger('silent');
const tgChat: ChatRef = { platform: 'telegram', chatId: '-100', isGroup: true };
const dcChat: ChatRef = { platform: 'discord', chatId: '555', isGroup: true };

/** One clawmedic process's notify side: its own connections, adapters and workers. */
interface Proc {
  adapters: Map<Platform, ChatAdapter>;
  workers: NotifyWorkers;
  conns: Redis[];
}
const procs: Proc[] = [];
function startProcess(adapters: ChatAdapter[]): Proc {
  const redis = new Redis(TEST_REDIS_URL);
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const map = new Map<Platform, ChatAdapter>(adapters.map((a) => [a.platform, a]));
  const workers = startNotifyWorker({ connection, redis, keys, adapters: map, logger, audit: new AuditLog(redis, keys), box });
  const p = { adapters: map, workers, conns: [redis, connection] };
  procs.push(p);
  return p;
}
async function stopProcess(p: Proc): Promise<void> {
  await p.workers.close();
  for (const c of p.conns) c.disconnect();
  procs.splice(procs.indexOf(p), 1);
}

let redis: Redis;
let queues: Queues;
let notifier: Notifier;
let audit: AuditLog;
beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
  queues = createQueues(redis, keys);
  notifier = new Notifier(queues, redis, keys, box);
  audit = new AuditLog(redis, keys);
});
afterEach(async () => {
  for (const p of [...procs]) await stopProcess(p);
});
afterAll(async () => {
  await queues.close();
  redis.disconnect();
  await cleanupPrefix(prefix);
});

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('notify routing', () => {
  it('each platform\'s deliveries are taken only by the process running its adapter; none fail', async () => {
    const tg = new CapturingAdapter('telegram');
    const dc = new CapturingAdapter('discord');
    // A Telegram-only process and a Discord-only process share Redis.
    startProcess([tg]);
    startProcess([dc]);
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      sends.push(notifier.send({ chat: tgChat, reply: { title: `tg ${i}`, tone: 'info' }, messageKey: `job:tg-${i}` }));
      sends.push(notifier.send({ chat: dcChat, reply: { title: `dc ${i}`, tone: 'info' }, messageKey: `job:dc-${i}` }));
    }
    await Promise.all(sends);
    await until('all 40 delivered', () => tg.messages.length === 20 && dc.messages.length === 20);
    expect(tg.messages.every((m) => m.title.startsWith('tg '))).toBe(true);
    expect(dc.messages.every((m) => m.title.startsWith('dc '))).toBe(true);
    // Nobody took a delivery it could not make: no failed attempt anywhere.
    for (const q of Object.values(queues.notify)) {
      const jobs = await q.getJobs(['completed', 'failed', 'delayed']);
      expect(jobs.filter((j) => j.attemptsMade > 1 || j.failedReason)).toEqual([]);
    }
  });

  it('an alert for a platform no process serves waits (not dropped) and is delivered and audited once one starts', async () => {
    const tg = new CapturingAdapter('telegram');
    startProcess([tg]);
    const alert: Delivery = { chat: dcChat, reply: { title: '🔴 prod: gateway down', tone: 'info' }, messageKey: 'incident:prod:gateway_down:1:discord:555' };
    await notifier.send(alert);
    await notifier.send({ chat: tgChat, reply: { title: 'tg alongside', tone: 'info' }, messageKey: 'job:alongside' });
    await until('the Telegram delivery', () => tg.messages.length === 1);
    // The Telegram process did not touch the Discord alert: it is still waiting, never attempted.
    const waiting = await queues.notify.discord.getJobs(['waiting']);
    expect(waiting.map((j) => [j.data.messageKey, j.attemptsMade])).toEqual([[alert.messageKey, 0]]);
    const dc = new CapturingAdapter('discord');
    startProcess([dc]);
    await until('the alert on Discord', () => dc.messages.length === 1);
    expect(dc.messages[0]!.title).toBe('🔴 prod: gateway down');
    const delivered = await until('the delivered audit record', async () =>
      (await audit.recent(undefined, 50)).find((r) => r.event === 'delivered' && r.detail?.includes(alert.messageKey!)),
    );
    expect(delivered.chat).toEqual({ platform: 'discord', chatId: '555' });
  });

  it('a delivery given up (expired, or the chat refuses us) is audited as undelivered and not sent', async () => {
    let refused = 0;
    const refusing: ChatAdapter = {
      platform: 'telegram',
      start: async () => undefined,
      stop: async () => undefined,
      deliver: async () => {
        refused++;
        throw new PermanentDeliveryError('bot was blocked by the user');
      },
    };
    const dc = new CapturingAdapter('discord');
    // An alert that expired while no Discord process ran: queued as the Notifier would, with an old expiry.
    await queues.notify.discord.add('deliver', { chat: dcChat, reply: { title: 'stale alert', tone: 'info' }, messageKey: 'incident:old:1:discord:555', expiresAt: Date.now() - 1000 });
    await notifier.send({ chat: tgChat, reply: { title: 'to a blocked chat', tone: 'info' }, messageKey: 'incident:prod:x:1:telegram:-100' });
    startProcess([refusing, dc]);
    const records = await until('two undelivered records', async () => {
      const r = (await audit.recent(undefined, 100)).filter((x) => x.event === 'undelivered');
      return r.length >= 2 ? r : undefined;
    });
    const details = records.map((r) => r.detail ?? '');
    expect(details.filter((d) => /^incident:old:1:discord:555: expired/.test(d))).toHaveLength(1);
    expect(details.filter((d) => /^incident:prod:x:1:telegram:-100: chat refuses us: bot was blocked/.test(d))).toHaveLength(1);
    expect(dc.messages).toEqual([]);
    expect(refused).toBe(1);
  });
});

describe('delivery backoff', () => {
  it('doubles from 1 s and is capped, so retries go on until the delivery expires', () => {
    expect([1, 2, 3].map(deliveryBackoffMs)).toEqual([1000, 2000, 4000]);
    expect(deliveryBackoffMs(30)).toBe(DELIVERY.backoffMaxMs);
    // The attempt count cannot end the retries before the TTL does.
    let total = 0;
    for (let i = 1; i < DELIVERY.attempts; i++) total += deliveryBackoffMs(i);
    expect(total).toBeGreaterThan(DELIVERY.ttlSec * 1000);
  });
});
