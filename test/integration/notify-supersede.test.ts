/**
 * Issue 13 item 4: in a busy chat, a fix's stale progress edits of one message wait in the notify worker's
 * per-chat chain. When one reaches the front while a newer plain edit of the same message waits behind
 * it, it is not sent (its job completes as superseded): the chat shows the newest state one send later,
 * not one send per stale step. A first send (it creates the message) and an expiry edit that removes a
 * keyboard are never skipped. Real Redis, real BullMQ queue and worker, a recording adapter whose first
 * call is held (a slow send in a busy chat) and which keeps message refs as the real adapters do.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createQueues, type Queues } from '../../src/jobs/queues.js';
import { Notifier } from '../../src/jobs/notifier.js';
import { startNotifyWorker, type NotifyWorkers } from '../../src/jobs/notify-worker.js';
import { SecretBox } from '../../src/util/secret-box.js';
import { AuditLog } from '../../src/state/audit-log.js';
import { RedisMessageRefStore } from '../../src/state/message-ref-store.js';
import type { ChatAdapter } from '../../src/domain/ports.js';
import { createLogger } from '../../src/util/logger.js';
import type { ChatRef, Delivery, Platform } from '../../src/domain/types.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { KeySpace } from '../../src/state/key-space.js';

const prefix = uniquePrefix('notify-supersede');
const keys = new KeySpace(prefix);
const box = SecretBox.ephemeral();
const chat: ChatRef = { platform: 'telegram', chatId: '-200', isGroup: true };

/** Records every call; the first one waits for release() (a slow send); keeps refs like the real adapters. */
class HeldAdapter implements ChatAdapter {
  readonly platform: Platform = 'telegram';
  readonly calls: { key?: string; kind: 'send' | 'edit'; title: string }[] = [];
  private release!: () => void;
  private readonly held = new Promise<void>((r) => (this.release = r));
  private first = true;
  constructor(private readonly refs: RedisMessageRefStore) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async deliver(d: Delivery): Promise<void> {
    const exists = d.messageKey ? (await this.refs.get('telegram', d.messageKey)) !== undefined : false;
    this.calls.push({ key: d.messageKey, kind: exists ? 'edit' : 'send', title: d.reply.title });
    if (this.first) {
      this.first = false;
      await this.held;
    }
    if (d.messageKey && !exists) await this.refs.set('telegram', d.messageKey, `${chat.chatId}:${this.calls.length}`);
  }
  go(): void {
    this.release();
  }
}

let redis: Redis;
let connection: Redis;
let queues: Queues;
let notifier: Notifier;
let audit: AuditLog;
let refs: RedisMessageRefStore;
let workers: NotifyWorkers | undefined;
beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
  connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  queues = createQueues(redis, keys);
  notifier = new Notifier(queues, redis, keys, box);
  audit = new AuditLog(redis, keys);
  refs = new RedisMessageRefStore(redis, keys, box);
});
afterEach(async () => {
  held?.go();
  await workers?.close();
  workers = undefined;
  await queues.notify.telegram.obliterate({ force: true });
});
afterAll(async () => {
  await queues.close();
  redis.disconnect();
  connection.disconnect();
  await cleanupPrefix(prefix);
});

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let held: HeldAdapter | undefined;
/** Start the worker; `first` goes out at once and is held in the adapter, so what is queued next waits behind it. */
async function start(adapter: HeldAdapter, first: Delivery): Promise<void> {
  held = adapter;
  // Every expiry edit's buttons are still unused here: it is shown.
  const buttons = { retire: async () => true };
  workers = startNotifyWorker({ connection, redis, keys, adapters: new Map([[adapter.platform, adapter]]), logger: createLogger('silent'), audit, box, buttons, concurrency: 8 });
  await notifier.send(first);
  await until('the first delivery in flight', () => adapter.calls.length === 1);
}

/** All `n` jobs taken by the worker (the first held in the adapter, the rest waiting in the chat's chain). */
async function allTaken(n: number): Promise<void> {
  await until(`${n} active notify jobs`, async () => (await queues.notify.telegram.getActiveCount()) === n);
  await new Promise((r) => setTimeout(r, 200)); // past open()/expiry, into the chain
}

describe('stale edits of one message are superseded in the chat chain', () => {
  it('five progress edits behind a slow send: the one in flight and the newest are sent, the three between are not', async () => {
    const adapter = new HeldAdapter(refs);
    await refs.set('telegram', 'job:fix1', `${chat.chatId}:1`); // the fix's message, sent as the reply to /fix
    const step = (i: number): Delivery => ({ chat, messageKey: 'job:fix1', reply: { title: `prod: step ${i}/5`, tone: 'pending' } });
    await start(adapter, step(1));
    for (let i = 2; i <= 5; i++) await notifier.send(step(i));
    await allTaken(5);
    adapter.go();
    await until('all five jobs completed', async () => (await queues.notify.telegram.getCompletedCount()) === 5);
    expect(adapter.calls.map((c) => c.title)).toEqual(['prod: step 1/5', 'prod: step 5/5']);
    expect(await queues.notify.telegram.getFailedCount()).toBe(0);
    const done = await queues.notify.telegram.getJobs(['completed']);
    expect(done.every((j) => j.attemptsMade <= 1 && !j.failedReason)).toBe(true);
  });

  it('an alert edit that is superseded is audited as such, never as undelivered', async () => {
    const adapter = new HeldAdapter(refs);
    const key = 'incident:prod:gateway_down:1:telegram:-200';
    await refs.set('telegram', key, `${chat.chatId}:7`);
    await start(adapter, { chat, messageKey: 'job:other', reply: { title: 'slow reply', tone: 'info' } });
    for (const n of [3, 4, 5]) await notifier.send({ chat, messageKey: key, reply: { title: `prod: down, ${n} probes`, tone: 'error' } });
    await allTaken(4);
    adapter.go();
    await until('all four jobs completed', async () => (await queues.notify.telegram.getCompletedCount()) === 4);
    expect(adapter.calls.map((c) => c.title)).toEqual(['slow reply', 'prod: down, 5 probes']);
    const records = (await audit.recent(undefined, 50)).filter((r) => r.detail?.includes(key));
    expect(records.map((r) => r.event).sort()).toEqual(['delivered', 'superseded', 'superseded']);
  });

  it('a first send and an expiry edit that removes the keyboard are never skipped; a plain edit between them is', async () => {
    const adapter = new HeldAdapter(refs);
    await start(adapter, { chat, messageKey: 'job:busy', reply: { title: 'slow reply', tone: 'info' } });
    const key = 'job:offer';
    await notifier.send({ chat, messageKey: key, reply: { title: 'offer: first send', tone: 'info' } });
    await notifier.send({ chat, messageKey: key, reply: { title: 'offer: stale edit', tone: 'info' } });
    await notifier.send({ chat, messageKey: key, reply: { title: 'offer expired', tone: 'info' }, retires: ['t1'] });
    await notifier.send({ chat, messageKey: key, reply: { title: 'offer: newest', tone: 'info' } });
    await allTaken(5);
    adapter.go();
    await until('all five jobs completed', async () => (await queues.notify.telegram.getCompletedCount()) === 5);
    expect(adapter.calls.map((c) => `${c.kind} ${c.title}`)).toEqual(['send slow reply', 'send offer: first send', 'edit offer expired', 'edit offer: newest']);
  });
});
