/**
 * A reply's secret (a fresh dashboard link) through the notify queue (issue 12.3): queued sealed,
 * kept minutes only, opened only when sent. One that cannot be sent in time, was moved to another
 * recipient in Redis, or was sealed with another CLAWMEDIC_JOB_KEY is never sent: the requester gets
 * a notice to ask again, and the ciphertext leaves Redis. Real Redis, BullMQ queues and notify worker.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createQueues, type Queues } from '../../src/jobs/queues.js';
import { Notifier, type SequencedDelivery } from '../../src/jobs/notifier.js';
import { notifyBackoffMs, startNotifyWorker, type NotifyWorkers } from '../../src/jobs/notify-worker.js';
import { AuditLog } from '../../src/state/audit-log.js';
import type { ChatAdapter } from '../../src/domain/ports.js';
import { DELIVERY } from '../../src/constants.js';
import { createLogger } from '../../src/util/logger.js';
import { SecretBox } from '../../src/util/secret-box.js';
import type { ChatRef, Delivery, Platform } from '../../src/domain/types.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { keysContaining } from '../support/redis-scan.js';
import { KeySpace } from '../../src/state/key-space.js';

const prefix = uniquePrefix('secret-delivery');
const keys = new KeySpace(prefix);
const LINK = 'http://127.0.0.1:18789/#token=secret-delivery-test-token-51f0';
const group: ChatRef = { platform: 'discord', chatId: '555', isGroup: true };
const OPERATOR = '310000000000000001';
const MALLORY = '310000000000000009';

/** A Discord adapter stand-in: records what it was asked to send; fails while `down` is set. */
class FlakyAdapter implements ChatAdapter {
  readonly platform: Platform = 'discord';
  readonly sent: Delivery[] = [];
  attempts = 0;
  down = false;
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async deliver(d: Delivery): Promise<void> {
    this.attempts++;
    if (this.down) throw new Error('Discord 503');
    this.sent.push(d);
  }
}

const linkDelivery = (userId = OPERATOR): Delivery => ({
  chat: group,
  userId,
  reply: { title: 'prod: fresh dashboard link (private)', tone: 'info', private: true, secret: LINK },
  secretFallback: { title: 'prod: fresh dashboard link not delivered', tone: 'warn', body: ['Run /fix prod again for a new one.'], private: true },
});

let redis: Redis;
let connection: Redis;
let queues: Queues;
let audit: AuditLog;
let workers: NotifyWorkers | undefined;
const box = SecretBox.ephemeral();

function startWorker(adapter: ChatAdapter, withBox = box): void {
  workers = startNotifyWorker({ connection, redis, keys, adapters: new Map([[adapter.platform, adapter]]), logger: createLogger('silent'), audit, box: withBox });
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
  connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  queues = createQueues(redis, keys);
  audit = new AuditLog(redis, keys);
});
afterEach(async () => {
  await workers?.close();
  workers = undefined;
  await queues.notify.discord.obliterate({ force: true });
});
afterAll(async () => {
  await queues.close();
  redis.disconnect();
  connection.disconnect();
  await cleanupPrefix(prefix);
});

describe('secret deliveries (issue 12.3)', () => {
  it('queued sealed with a short expiry; opened only to send; the requester gets the link; nothing left in Redis', async () => {
    const notifier = new Notifier(queues, redis, keys, box);
    const before = Date.now();
    await notifier.send(linkDelivery());
    const [job] = await queues.notify.discord.getJobs(['waiting']);
    const data = job!.data as SequencedDelivery;
    expect(data.reply.secret).toBeUndefined();
    expect(data.sealedSecret).toMatch(/^s1\./);
    expect(data.expiresAt! - before).toBeLessThanOrEqual(DELIVERY.secretTtlSec * 1000 + 1000);
    expect(job!.opts.removeOnComplete).toBe(true);
    expect(job!.opts.removeOnFail).toBe(true);
    expect(await keysContaining(redis, keys, [LINK, '#token=', 'secret-delivery-test-token'])).toEqual([]);

    const adapter = new FlakyAdapter();
    startWorker(adapter);
    await until('the link', () => adapter.sent.length === 1);
    expect(adapter.sent[0]!.reply.secret).toBe(LINK);
    expect(adapter.sent[0]!.userId).toBe(OPERATOR);
    await until('the job removed', async () => (await queues.notify.discord.getJobCounts('completed', 'waiting', 'active')).completed === 0);
    expect(await keysContaining(redis, keys, [LINK, 'secret-delivery-test-token'])).toEqual([]);
  });

  it('a link that cannot be delivered within its minutes is discarded: the requester is told to ask for a new one, the ciphertext leaves Redis', async () => {
    const notifier = new Notifier(queues, redis, keys, box, { secretTtlMs: 2500 });
    const adapter = new FlakyAdapter();
    adapter.down = true;
    startWorker(adapter);
    const sentAt = Date.now();
    await notifier.send(linkDelivery());
    // Retried while Discord is down (1 s, 2 s…); the last try is at the expiry, not minutes later.
    await until('the link expired', () => Date.now() > sentAt + 2600 && adapter.attempts >= 2);
    adapter.down = false;
    const notice = await until('the notice', () => adapter.sent[0], 10_000);
    expect(Date.now() - sentAt).toBeLessThan(8000);
    expect(notice.reply.title).toBe('prod: fresh dashboard link not delivered');
    expect(notice.reply.secret).toBeUndefined();
    expect(notice.userId).toBe(OPERATOR);
    expect(notice.reply.private).toBe(true);
    expect(adapter.sent).toHaveLength(1);
    const records = await until('the undelivered record', async () => (await audit.recent(undefined, 50)).filter((r) => r.event === 'undelivered'));
    expect(records.map((r) => r.detail).join('\n')).toMatch(/private secret expired after \d+ attempt\(s\); the requester is told to ask again/);
    expect(JSON.stringify(records)).not.toContain('secret-delivery-test-token');
    // The sealed value is gone from Redis, not only expired.
    expect(await keysContaining(redis, keys, ['s1.', 'secret-delivery-test-token'])).toEqual([]);
  });

  it('a sealed link copied into a delivery to someone else (write access to Redis) is not sent to them', async () => {
    const notifier = new Notifier(queues, redis, keys, box);
    await notifier.send(linkDelivery(OPERATOR));
    const [job] = await queues.notify.discord.getJobs(['waiting']);
    // Mallory rewrites the recipient of the queued job, keeping the sealed secret.
    await job!.updateData({ ...(job!.data as SequencedDelivery), userId: MALLORY });
    const adapter = new FlakyAdapter();
    startWorker(adapter);
    const sent = await until('a delivery', () => adapter.sent[0]);
    expect(sent.userId).toBe(MALLORY);
    expect(sent.reply.secret).toBeUndefined();
    expect(sent.reply.title).toBe('prod: fresh dashboard link not delivered');
  });

  it('after a key change (another CLAWMEDIC_JOB_KEY) a queued link is not opened: the requester is told to ask again', async () => {
    const notifier = new Notifier(queues, redis, keys, box);
    await notifier.send(linkDelivery());
    const adapter = new FlakyAdapter();
    startWorker(adapter, SecretBox.ephemeral());
    const sent = await until('a delivery', () => adapter.sent[0]);
    expect(sent.reply.secret).toBeUndefined();
    expect(sent.reply.title).toBe('prod: fresh dashboard link not delivered');
    const records = (await audit.recent(undefined, 50)).filter((r) => r.event === 'undelivered');
    expect(records.map((r) => r.detail).join('\n')).toMatch(/private secret could not be opened/);
  });

  it('an error that echoes the opened link is stored by BullMQ without it', async () => {
    const notifier = new Notifier(queues, redis, keys, box);
    let calls = 0;
    const echoing: ChatAdapter = {
      platform: 'discord',
      start: async () => undefined,
      stop: async () => undefined,
      deliver: async (d) => {
        calls++;
        throw new Error(`Bad Request: cannot parse ${d.reply.secret}`);
      },
    };
    startWorker(echoing);
    await notifier.send(linkDelivery());
    await until('two failed attempts', () => calls >= 2);
    const [job] = await queues.notify.discord.getJobs(['delayed', 'waiting', 'active']);
    expect(job!.failedReason).toBe('Bad Request: cannot parse <redacted>');
    expect(await keysContaining(redis, keys, ['secret-delivery-test-token', '#token='])).toEqual([]);
  });

  it('backoff of a sealed delivery ends at its expiry; others keep the capped backoff', () => {
    const now = 1_000_000;
    expect(notifyBackoffMs(12, { sealedSecret: 's1.x', expiresAt: now + 30_000 }, now)).toBe(30_050);
    expect(notifyBackoffMs(1, { sealedSecret: 's1.x', expiresAt: now + 30_000 }, now)).toBe(1000);
    expect(notifyBackoffMs(12, { sealedSecret: 's1.x', expiresAt: now - 5 }, now)).toBe(45);
    expect(notifyBackoffMs(12, { expiresAt: now + 30_000 }, now)).toBe(DELIVERY.backoffMaxMs);
    expect(notifyBackoffMs(12, undefined, now)).toBe(DELIVERY.backoffMaxMs);
  });
});
