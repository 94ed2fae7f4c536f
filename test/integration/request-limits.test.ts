/**
 * Issue 12.6: every door of the router has a limit, checked against real Redis before anything
 * is queued. Small limits and short windows so the test sees them trip and reset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { parseConfigText } from '../../src/config/load-config.js';
import { Router } from '../../src/router/router.js';
import { ButtonStore } from '../../src/state/button-store.js';
import { createRequestGuards } from '../../src/router/request-limits.js';
import { releaseStatusSlot } from '../../src/state/status-slots.js';
import { JobSigner } from '../../src/util/job-signer.js';
import { AuditLog } from '../../src/state/audit-log.js';
import { Inflight } from '../../src/state/inflight.js';
import { FixAttempts } from '../../src/state/fix-attempts.js';
import { createQueues, type Queues } from '../../src/jobs/queues.js';
import { createLogger } from '../../src/util/logger.js';
import type { Actor, ChatRef } from '../../src/domain/types.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { KeySpace } from '../../src/state/key-space.js';

const FP = `SHA256:${'A'.repeat(43)}`;
const WINDOW_SEC = 2;
const config = parseConfigText(
  `hosts:
  - { name: prod, ssh: { host: h, user: u, hostKeyFingerprint: "${FP}" }, supervisor: { kind: systemd-user } }
people:
  - { platform: telegram, userId: 1, role: viewer }
  - { platform: telegram, userId: 2, role: viewer }
  - { platform: telegram, userId: 3, role: viewer }
  - { platform: telegram, userId: 4, role: viewer }
chats:
  - { platform: telegram, chatId: -100, hosts: [prod] }
  - { platform: telegram, chatId: -200, hosts: [prod] }
  - { platform: telegram, chatId: -300, hosts: [prod] }
limits: { perPerson: 4, perChat: 6, windowSec: ${WINDOW_SEC}, unknownReplySec: ${WINDOW_SEC}, statusQueuedPerChat: 2 }
`,
  'clawmedic.yaml',
);

const person = (id: number): Actor => ({ platform: 'telegram', userId: String(id) });
const chat = (id: number): ChatRef => ({ platform: 'telegram', chatId: String(id), isGroup: true });
const stranger = person(999);
const prefix = uniquePrefix('limits');
const keys = new KeySpace(prefix);
const signer = JobSigner.ephemeral();
let redis: Redis;
let queues: Queues;
let router: Router;
let audit: AuditLog;
let buttons: ButtonStore;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
  queues = createQueues(redis, keys);
  audit = new AuditLog(redis, keys);
  buttons = new ButtonStore(redis, keys, signer);
  const guards = createRequestGuards(redis, keys, config);
  router = new Router({ config, queues, buttons, audit, inflight: new Inflight(redis, keys), fixAttempts: new FixAttempts(redis, keys), logger: createLogger('silent'), signer, ...guards });
});
afterAll(async () => {
  await queues.close();
  redis.disconnect();
  await cleanupPrefix(prefix);
});

const waitWindow = () => new Promise((r) => setTimeout(r, WINDOW_SEC * 1000 + 200));
const auditOf = async (userId: string) => (await audit.recent(undefined, 1000)).filter((r) => r.actor?.userId === userId);

describe('request limits (real Redis)', () => {
  it('an unknown user flooding gets one reply and one audit entry per period; the next entry counts the silenced ones', async () => {
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => router.handleCommand({ actor: stranger, chat: chat(-300), text: i % 2 ? '/status' : '/nonsense' })));
    expect(responses.filter((r) => !r.silent)).toHaveLength(1);
    expect(responses.every((r) => r.reply.title.includes('not allowed'))).toBe(true);
    expect(await auditOf('999')).toHaveLength(1);
    expect(await queues.diagnose.count()).toBe(0);

    await waitWindow();
    const next = await router.handleCommand({ actor: stranger, chat: chat(-300), text: '/status' });
    expect(next.silent).toBeFalsy();
    const trail = await auditOf('999');
    expect(trail).toHaveLength(2);
    expect(trail[0]!.detail).toContain('49 more refused without a reply');
  });

  it('one person: /status beyond the chat cap is refused, beyond the person limit answered once and then quiet; nothing extra is queued', async () => {
    const before = await queues.diagnose.count();
    const replies = [];
    for (let i = 0; i < 10; i++) replies.push(await router.handleCommand({ actor: person(1), chat: chat(-100), text: '/status prod' }));
    // 2 queued (the chat's status cap), 2 refused by that cap, then past 4 per window: told once, silent after.
    expect(await queues.diagnose.count()).toBe(before + 2);
    expect(replies.slice(0, 2).every((r) => r.reply.tone === 'pending')).toBe(true);
    expect(replies.slice(2, 4).every((r) => r.reply.title.includes('status checks are already running'))).toBe(true);
    expect(replies[4]!.reply.title).toMatch(/^Too many requests \(limit: 4 requests per 2 s from one person\)\. Nothing was started; try again in [12] s\.$/);
    expect(replies[4]!.silent).toBeFalsy();
    expect(replies.slice(5).every((r) => r.silent === true)).toBe(true);
    const denials = (await auditOf('1')).filter((r) => r.event === 'denied');
    expect(denials.map((d) => d.detail)).toEqual([expect.stringContaining('rate limit'), expect.stringContaining('already waiting'), expect.stringContaining('already waiting')]);

    // A finished status job frees its slot (the host worker calls this): the next window queues again.
    const queued = (await queues.diagnose.getJobs(['waiting'])).filter((j) => j.data.chat.chatId === '-100');
    await releaseStatusSlot(redis, keys, { platform: 'telegram', chatId: '-100' }, String(queued[0]!.id));
    await waitWindow();
    const again = await router.handleCommand({ actor: person(1), chat: chat(-100), text: '/status prod' });
    expect(again.reply.tone).toBe('pending');
    expect(await queues.diagnose.count()).toBe(before + 3);
  });

  it('a chat: several people together are held to the chat limit', async () => {
    const replies = [];
    for (const id of [2, 3, 4]) for (let i = 0; i < 3; i++) replies.push(await router.handleCommand({ actor: person(id), chat: chat(-200), text: '/hosts' }));
    const refused = replies.filter((r) => r.reply.title.startsWith('Too many requests'));
    expect(replies.slice(0, 6).every((r) => !r.reply.title.startsWith('Too many'))).toBe(true);
    expect(refused).toHaveLength(3);
    expect(refused[0]!.reply.title).toContain('6 requests per 2 s in one chat');
  });

  it('button presses count against the same limit, before the button is looked at', async () => {
    await waitWindow();
    const tokens = await buttons.issue(Array.from({ length: 6 }, () => ({ action: 'diagnose' as const, host: 'prod', platform: 'telegram' as const, chatId: '-100' })), 60);
    const replies = [];
    for (const t of tokens) replies.push(await router.handleButton({ actor: person(2), chat: chat(-100), token: t }));
    expect(replies.slice(4).every((r) => r.reply.title.startsWith('Too many requests'))).toBe(true);
    // The refused presses did not spend their buttons.
    expect(await buttons.peek(tokens[5]!)).toBeTruthy();
  });
});
