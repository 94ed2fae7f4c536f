import { createRequestGuards } from '../../src/router/request-limits.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { parseConfigText } from '../../src/config/load-config.js';
import { Router } from '../../src/router/router.js';
import { ButtonStore } from '../../src/state/button-store.js';
import { JobSigner } from '../../src/util/job-signer.js';
import { AuditLog } from '../../src/state/audit-log.js';
import { Inflight } from '../../src/state/inflight.js';
import { FixAttempts } from '../../src/state/fix-attempts.js';
import { createQueues, type Queues } from '../../src/jobs/queues.js';
import { createLogger } from '../../src/util/logger.js';
import type { Actor, ChatRef } from '../../src/domain/types.js';
import type { FixPlan } from '../../src/domain/diagnosis.js';
import { cleanupPrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { KeySpace } from '../../src/state/key-space.js';

const FP = `SHA256:${'A'.repeat(43)}`;
const config = parseConfigText(
  `hosts:
  - { name: prod, ssh: { host: h, user: u, hostKeyFingerprint: "${FP}" }, supervisor: { kind: systemd-user } }
  - { name: lab, ssh: { host: h, user: u, hostKeyFingerprint: "${FP}" }, supervisor: { kind: systemd-user } }
people:
  - { platform: telegram, userId: 1, role: viewer }
  - { platform: telegram, userId: 2, role: operator }
  - { platform: telegram, userId: 4, role: operator, name: Bea }
  - { platform: telegram, userId: 5, role: admin }
chats:
  - { platform: telegram, chatId: -100, hosts: [prod] }
fix: { maxAttemptsPerHour: 2 }
# This file drives many requests from a few people; the limits themselves are proven in request-limits.test.ts.
limits: { perPerson: 1000, perChat: 1000, statusQueuedPerChat: 100 }
`,
  'clawmedic.yaml',
);

const group: ChatRef = { platform: 'telegram', chatId: '-100', isGroup: true };
const viewer: Actor = { platform: 'telegram', userId: '1' };
const operator: Actor = { platform: 'telegram', userId: '2' };
const operator2: Actor = { platform: 'telegram', userId: '4' };
const stranger: Actor = { platform: 'telegram', userId: '999', displayName: 'admin' };
const plan: FixPlan = { host: 'prod', cause: 'gateway_down', steps: [{ kind: 'start_gateway', description: 'start', script: 'true', timeoutMs: 1000, mutates: true }], userActions: [], disruptive: true, verifyWindowSec: 1 };

let redis: Redis;
let queues: Queues;
let router: Router;
let buttons: ButtonStore;
let audit: AuditLog;
const sent: import('../../src/domain/types.js').Delivery[] = [];
const prefix = uniquePrefix('router');
const keys = new KeySpace(prefix);
const signer = JobSigner.ephemeral();

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
  queues = createQueues(redis, keys);
  buttons = new ButtonStore(redis, keys, signer);
  audit = new AuditLog(redis, keys);
  router = new Router({ config, queues, buttons, audit, inflight: new Inflight(redis, keys), fixAttempts: new FixAttempts(redis, keys), logger: createLogger('silent'), ...createRequestGuards(redis, keys, config), signer, notifier: { send: async (d) => void sent.push(d) } });
});
afterAll(async () => {
  await queues.close();
  redis.disconnect();
  await cleanupPrefix(prefix);
});

const cmd = (actor: Actor, text: string, chat = group) => router.handleCommand({ actor, chat, text });

describe('router: bad input gets a clear message and changes nothing', () => {
  it('unknown command', async () => {
    const r = await cmd(operator, '/restart prod');
    expect(r.reply.tone).toBe('error');
    expect(r.reply.title).toContain('Unknown command /restart');
    expect(await queues.diagnose.count()).toBe(0);
  });
  it('unknown host, and shell metacharacters in a host name never go further', async () => {
    for (const bad of ['nope', '$(touch${IFS}/tmp/x)', 'prod;reboot', "prod'", '../etc']) {
      const r = await cmd(operator, `/diagnose ${bad}`);
      expect(r.reply.tone).toBe('error');
      expect(r.reply.title).toContain('Unknown host');
    }
    expect(await queues.diagnose.count()).toBe(0);
  });
  it('host not bound to this chat', async () => {
    const r = await cmd(operator, '/diagnose lab');
    expect(r.reply.title).toBe('Host "lab" is not bound to this chat.');
    expect(await queues.diagnose.count()).toBe(0);
  });
  it('user not in config, whatever their display name', async () => {
    const r = await cmd(stranger, '/status');
    expect(r.reply.title).toContain('user id 999 on telegram is not in the config');
    expect(await queues.diagnose.count()).toBe(0);
  });
  it('viewer may not fix', async () => {
    const r = await cmd(viewer, '/fix prod');
    expect(r.reply.title).toBe('/fix needs the operator role; you are viewer.');
    const trail = await audit.recent(undefined, 20);
    expect(trail.some((e) => e.event === 'denied' && e.action === 'fix' && e.actor?.userId === '1')).toBe(true);
  });
});

describe('router: usage texts show a complete example (issue 14)', () => {
  it('/mute without arguments names the duration and a runnable example; a bad duration too; nothing changes', async () => {
    const bare = await cmd(operator, '/mute');
    expect(bare.reply.tone).toBe('error');
    expect(bare.reply.title).toContain('/mute <host> <30m|2h|1d> [reason]');
    expect(bare.reply.title).toContain('e.g. /mute prod 30m');
    const bad = await cmd(operator, '/mute prod forever');
    expect(bad.reply.tone).toBe('error');
    expect(bad.reply.title).toContain('e.g. /mute prod 30m');
    expect(await queues.diagnose.count()).toBe(0);
  });
  it('/help gives every command it lists a complete example with a host of this chat', async () => {
    const help = await cmd(operator, '/help');
    const lines = help.reply.body![0]!.split('\n');
    for (const line of lines.filter((l) => /<host>/.test(l))) expect(line).toMatch(/Example: \/\w+ prod\b/);
    expect(lines.find((l) => l.startsWith('/mute'))).toContain('Example: /mute prod 30m');
  });
});

describe('router: enqueue, join, confirm', () => {
  it('enqueues a status job for the hosts the chat may see and audits it', async () => {
    const r = await cmd(viewer, '/status');
    expect(r.messageKey).toMatch(/^job:/);
    const jobs = await queues.diagnose.getJobs(['waiting']);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.name).toBe('status');
    expect(jobs[0]!.data.hosts).toEqual(['prod']);
    await queues.diagnose.obliterate({ force: true });
  });

  it('a repeated request (same platform request id) is idempotent', async () => {
    await router.handleCommand({ actor: operator, chat: group, text: '/status prod', requestId: 'u-77' });
    await router.handleCommand({ actor: operator, chat: group, text: '/status prod', requestId: 'u-77' });
    expect(await queues.diagnose.count()).toBe(1);
    await queues.diagnose.obliterate({ force: true });
  });

  it('a second /diagnose of the same host joins the running one', async () => {
    const a = await cmd(operator, '/diagnose prod');
    const b = await cmd(operator2, '/diagnose prod');
    expect(a.reply.tone).toBe('pending');
    expect(b.reply.title).toContain('already running');
    expect(await queues.diagnose.count()).toBe(1);
    await queues.diagnose.obliterate({ force: true });
    await redis.del(keys.inflight('diagnose', 'prod'));
  });

  it('a host-less /diagnose offers host buttons; the press is re-authorized', async () => {
    const r = await cmd(operator, '/diagnose');
    expect(r.reply.buttons?.map((b) => b.label)).toEqual(['prod']);
    const token = r.reply.buttons![0]!.token;
    const refused = await router.handleButton({ actor: viewer, chat: group, token });
    expect(refused.reply.tone).toBe('error');
    expect(refused.reply.title).toContain('needs the operator role');
    const ok = await router.handleButton({ actor: operator, chat: group, token });
    expect(ok.reply.tone).toBe('pending');
    const again = await router.handleButton({ actor: operator, chat: group, token });
    expect(again.reply.title).toContain('expired or was already used');
    await queues.diagnose.obliterate({ force: true });
    await redis.del(keys.inflight('diagnose', 'prod'));
  });

  it('confirm is bound to the requester, single use, and a second fix is refused while one runs', async () => {
    const [confirm, cancel] = await buttons.issue(
      [
        { action: 'confirm', host: 'prod', platform: 'telegram', chatId: '-100', boundUserId: '2', plan, requestId: 'r1' },
        { action: 'cancel', host: 'prod', platform: 'telegram', chatId: '-100', boundUserId: '2' },
      ],
      60,
    );
    const other = await router.handleButton({ actor: operator2, chat: group, token: confirm! });
    expect(other.reply.title).toContain('Only the person who asked');
    const ok = await router.handleButton({ actor: operator, chat: group, token: confirm! });
    expect(ok.reply.title).toContain('fix confirmed');
    expect(await queues.fix.count()).toBe(1);
    // Siblings die together: Cancel no longer works.
    const late = await router.handleButton({ actor: operator, chat: group, token: cancel! });
    expect(late.reply.title).toContain('expired');
    // Another confirmation for the same host while the first is in flight.
    const [confirm2] = await buttons.issue([{ action: 'confirm', host: 'prod', platform: 'telegram', chatId: '-100', boundUserId: '4', plan, requestId: 'r2' }], 60);
    const busy = await router.handleButton({ actor: operator2, chat: group, token: confirm2! });
    expect(busy.reply.title).toContain('already running');
    expect(await queues.fix.count()).toBe(1);
    const trail = await audit.recent('prod', 20);
    expect(trail.map((e) => e.event)).toEqual(expect.arrayContaining(['confirmed', 'busy']));
    await queues.fix.obliterate({ force: true });
    await redis.del(keys.inflight('fix', 'prod'));
  });

  it('stops after maxAttemptsPerHour fixes and escalates', async () => {
    const attempts = new FixAttempts(redis, keys);
    await attempts.record('prod', 'a');
    await attempts.record('prod', 'b');
    const [confirm] = await buttons.issue([{ action: 'confirm', host: 'prod', platform: 'telegram', chatId: '-100', boundUserId: '2', plan, requestId: 'r3' }], 60);
    const r = await router.handleButton({ actor: operator, chat: group, token: confirm! });
    expect(r.reply.title).toContain('2 fixes ran in the last hour (limit 2)');
    expect(await queues.fix.count()).toBe(0);
    // The admins hear about it privately.
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ chat: { platform: 'telegram', chatId: '5', isGroup: false }, userId: '5', reply: { private: true } });
    expect(sent[0]!.reply.body?.[0]).toContain('2 fixes ran on prod in the last hour');
  });

  it('the limit counts disruptive fixes only: a fresh-link fix still runs when it is used up', async () => {
    const attempts = new FixAttempts(redis, keys);
    await attempts.record('prod', 'a');
    await attempts.record('prod', 'b');
    const linkPlan: FixPlan = {
      host: 'prod',
      cause: 'stale_client',
      steps: [{ kind: 'fresh_dashboard_link', description: 'link', script: 'true', timeoutMs: 1000, mutates: false, secretOutput: true }],
      userActions: [],
      disruptive: false,
      verifyWindowSec: 1,
    };
    const [confirm] = await buttons.issue([{ action: 'confirm', host: 'prod', platform: 'telegram', chatId: '-100', boundUserId: '2', plan: linkPlan, requestId: 'r-link' }], 60);
    const r = await router.handleButton({ actor: operator, chat: group, token: confirm! });
    expect(r.reply.title).toContain('fix confirmed');
    expect(await queues.fix.count()).toBe(1);
    await queues.fix.obliterate({ force: true });
    await redis.del(keys.inflight('fix', 'prod'));
  });

  it('a button pressed in another chat does nothing', async () => {
    const [t] = await buttons.issue([{ action: 'diagnose', host: 'prod', platform: 'telegram', chatId: '-100' }], 60);
    const r = await router.handleButton({ actor: operator, chat: { platform: 'telegram', chatId: '-555', isGroup: true }, token: t! });
    expect(r.reply.title).toContain('expired');
  });

  it('an expired confirmation says so', async () => {
    const [t] = await buttons.issue([{ action: 'confirm', host: 'prod', platform: 'telegram', chatId: '-100', boundUserId: '2', plan }], 1);
    await new Promise((r) => setTimeout(r, 1100));
    const r = await router.handleButton({ actor: operator, chat: group, token: t! });
    expect(r.reply.title).toContain('expired');
    const trail = await audit.recent(undefined, 5);
    expect(trail[0]!.event).toBe('expired');
  });

  it('/history reads the audit trail of the host', async () => {
    const r = await cmd(viewer, '/history prod');
    expect(r.reply.detail).toMatch(/fix confirmed by telegram:2/);
  });
  it('/history shows fixes and diagnoses first with names from the config; status checks are collapsed; --all lists everything (issue 14)', async () => {
    const who = { platform: 'telegram' as const, userId: '4' };
    await audit.record({ event: 'confirmed', action: 'fix', host: 'prod', actor: who, jobId: 'fix-hist', detail: 'cause gateway_down; steps start_gateway' });
    await audit.record({ event: 'fix_outcome', action: 'fix', host: 'prod', actor: who, jobId: 'fix-hist', detail: 'fixed: gateway answers again' });
    for (let i = 0; i < 3; i++) await audit.record({ event: 'allowed', action: 'status', host: 'prod', actor: who, jobId: `status-h${i}` });
    const r = await cmd(viewer, '/history prod');
    const lines = r.reply.detail!.split('\n');
    expect(lines[0]).toMatch(/fix result: fixed: gateway answers again$/);
    expect(lines[1]).toMatch(/fix confirmed by Bea \(cause gateway_down; steps start_gateway\)$/);
    expect(r.reply.detail).not.toMatch(/status|telegram:4|fix-hist/);
    expect(r.reply.body![0]).toMatch(/^\d+ status checks \(last .* by Bea\) not listed\.$/);
    const all = await cmd(viewer, '/history prod --all');
    expect(all.reply.detail!.split('\n').filter((l) => /allowed status by Bea/.test(l))).toHaveLength(3);
    const bad = await cmd(viewer, '/history prod --everything');
    expect(bad.reply.tone).toBe('error');
    expect(bad.reply.title).toContain('e.g. /history prod');
  });
});
