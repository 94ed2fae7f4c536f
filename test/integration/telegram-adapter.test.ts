/**
 * The real grammY TelegramAdapter against the Bot API stand-in, with a small in-test router and a real
 * Redis-backed MessageRefStore. The real router joins in the e2e tests.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { PermanentDeliveryError } from '../../src/domain/errors.js';
import type { RouterPort } from '../../src/domain/ports.js';
import { RedisMessageRefStore } from '../../src/state/message-ref-store.js';
import { SecretBox } from '../../src/util/secret-box.js';
import { TelegramAdapter, TelegramConflictError, type TelegramAdapterOptions } from '../../src/chat/telegram/telegram-adapter.js';
import { TELEGRAM_COMMANDS } from '../../src/chat/telegram/telegram-commands.js';
import { DETAIL_FILENAME } from '../../src/chat/telegram/render.js';
import type { ButtonPress, ChatRef, Command, Reply, RouterResponse } from '../../src/domain/types.js';
import { startTelegramStandin, type TelegramStandin } from '../support/telegram/telegram-standin.js';
import { KeySpace } from '../../src/state/key-space.js';

const PREFIX = `test:telegram-adapter:${process.pid}:${Date.now()}`;
const OPERATOR = 100;
const VIEWER = 200;
const GROUP = -1001;

/** Just enough router: answers by command name, refuses Fix for the viewer, hands out messageKeys. */
class TestRouter implements RouterPort {
  commands: Command[] = [];
  presses: ButtonPress[] = [];
  /** Simulates a worker that delivers before the adapter has even sent the first reply. */
  onQueued?: (key: string, chat: ChatRef) => void;

  async handleCommand(cmd: Command): Promise<RouterResponse> {
    this.commands.push(cmd);
    const [name, host] = cmd.text.trim().split(/\s+/);
    switch (name) {
      case '/status':
        if (host) {
          return { reply: { title: `${host}: gateway down`, tone: 'error', fields: [{ name: 'Host', value: host }] } };
        }
        return {
          reply: {
            title: 'Fleet: 1 of 2 hosts unhealthy',
            tone: 'warn',
            body: ['prod: gateway down', 'staging: ok'],
            buttons: [
              { label: 'Diagnose prod', action: 'diagnose', token: 'tok-d-prod' },
              { label: 'Fix prod', action: 'fix', token: 'tok-f-prod' },
            ],
          },
        };
      case '/diagnose': {
        const key = `job:diag-${host}`;
        if (this.onQueued) setTimeout(() => this.onQueued!(key, cmd.chat), 0);
        return { reply: { title: `${host}: diagnosis queued`, tone: 'pending' }, messageKey: key };
      }
      case '/long':
        return {
          reply: {
            title: 'long output',
            tone: 'info',
            body: [Array.from({ length: 300 }, (_, i) => `row ${i}: some text`).join('\n')],
            detail: `${'log line\n'.repeat(500)}OPENCLAW_GATEWAY_TOKEN=supersecretvalue\n`,
          },
        };
      case '/link':
        return { reply: { title: 'Your dashboard link', tone: 'info', body: ['https://gw.example/'], private: true } };
      default:
        return { reply: { title: 'Unknown command. Try /help.', tone: 'error' } };
    }
  }

  async handleButton(press: ButtonPress): Promise<RouterResponse> {
    this.presses.push(press);
    if (press.token === 'tok-f-prod') {
      if (press.actor.userId === String(VIEWER)) {
        return { reply: { title: 'Sorry, viewers cannot run /fix on prod. Ask an operator.', tone: 'error' } };
      }
      return {
        reply: {
          title: 'prod: restart the gateway?',
          tone: 'warn',
          buttons: [
            { label: 'Confirm', action: 'confirm', token: 'tok-c-prod', style: 'danger' },
            { label: 'Cancel', action: 'cancel', token: 'tok-x-prod' },
          ],
        },
      };
    }
    if (press.token === 'tok-c-prod') return { reply: { title: 'prod: fix queued', tone: 'pending' }, messageKey: 'job:fix-prod' };
    return { reply: { title: 'This button has expired.', tone: 'error' } };
  }

  hostsFor(): string[] {
    return ['prod', 'staging'];
  }
}

interface LogLine {
  level: string;
  obj: object;
  msg?: string;
}

let redis: Redis;
let tg: TelegramStandin;
let router: TestRouter;
let logs: LogLine[];
let adapter: TelegramAdapter | undefined;
let refs: RedisMessageRefStore;
let testNo = 0;

beforeAll(() => {
  redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 2 });
});
afterAll(async () => {
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});
beforeEach(async () => {
  tg = await startTelegramStandin();
  router = new TestRouter();
  logs = [];
  refs = new RedisMessageRefStore(redis, new KeySpace(`${PREFIX}:${++testNo}`), SecretBox.ephemeral());
});
afterEach(async () => {
  await adapter?.stop();
  adapter = undefined;
  await tg.stop();
  // The token must never reach a log line.
  expect(JSON.stringify(logs)).not.toContain(tg.token);
});

function makeAdapter(overrides: Partial<TelegramAdapterOptions> = {}): TelegramAdapter {
  const log = (level: string) => (obj: object, msg?: string) => logs.push({ level, obj, ...(msg ? { msg } : {}) });
  adapter = new TelegramAdapter({
    token: tg.token,
    apiRoot: tg.apiRoot,
    router,
    refs,
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    limits: { perChatIntervalMs: 20, perGroupPerMinute: 1000, globalPerSecond: 1000 },
    retry: { maxRetryAttempts: 3, maxDelaySeconds: 5 },
    pollingTimeoutSeconds: 2,
    conflictGraceMs: 200,
    ...overrides,
  });
  return adapter;
}

const privateChat = (id: number): ChatRef => ({ platform: 'telegram', chatId: String(id), isGroup: false });
const groupChat = (id: number): ChatRef => ({ platform: 'telegram', chatId: String(id), isGroup: true });
const reply = (title: string, extra: Partial<Reply> = {}): Reply => ({ title, tone: 'info', ...extra });

describe('TelegramAdapter', () => {
  it('registers the command menu and answers /status in a private chat', async () => {
    await makeAdapter().start();
    expect(tg.layer.commands.map((c) => c.command)).toEqual(TELEGRAM_COMMANDS.map((c) => c.command));

    await tg.userSends(OPERATOR, OPERATOR, '/status', { firstName: 'Ada' });
    const [msg] = await tg.waitFor(() => (tg.messagesIn(OPERATOR).length ? tg.messagesIn(OPERATOR) : undefined));
    expect(msg!.text!.split('\n')[0]).toBe('⚠️ Fleet: 1 of 2 hosts unhealthy');
    expect(msg!.entities).toContainEqual({ type: 'bold', offset: 3, length: 'Fleet: 1 of 2 hosts unhealthy'.length });
    expect(msg!.buttons).toEqual([
      { text: 'Diagnose prod', data: 'diagnose:tok-d-prod' },
      { text: 'Fix prod', data: 'fix:tok-f-prod' },
    ]);
    expect(router.commands).toEqual([
      {
        actor: { platform: 'telegram', userId: String(OPERATOR), displayName: 'Ada' },
        chat: { platform: 'telegram', chatId: String(OPERATOR), isGroup: false },
        text: '/status',
        requestId: expect.stringMatching(/^\d+$/),
      },
    ]);
  });

  it('takes group commands addressed to it (@botname stripped) and ignores other bots and chatter', async () => {
    await makeAdapter().start();
    await tg.userSends(GROUP, VIEWER, '/status@other_bot', { chatType: 'supergroup' });
    await tg.userSends(GROUP, VIEWER, 'just chatting', { chatType: 'supergroup' });
    await tg.userSends(GROUP, VIEWER, `/status@${tg.botUsername} prod`, { chatType: 'supergroup' });
    await tg.waitFor(() => tg.messagesIn(GROUP).length === 1);
    expect(router.commands.map((c) => c.text)).toEqual(['/status prod']);
    expect(router.commands[0]!.chat).toEqual({ platform: 'telegram', chatId: String(GROUP), isGroup: true });
    expect(router.commands[0]!.actor.userId).toBe(String(VIEWER));
  });

  it('answers a refused button press with a toast and leaves the message alone; Fix answers in a new message, Confirm edits it in place', async () => {
    await makeAdapter().start();
    await tg.userSends(GROUP, OPERATOR, '/status', { chatType: 'supergroup' });
    const status = await tg.waitFor(() => tg.messagesIn(GROUP)[0]);

    await tg.userPresses(GROUP, VIEWER, status.message_id, 'fix:tok-f-prod');
    const refusal = await tg.waitFor(() => tg.calls('answerCallbackQuery')[0]);
    expect(refusal.params.text).toBe('Sorry, viewers cannot run /fix on prod. Ask an operator.');
    // The router sees only the opaque token; the action prefix is the adapter's own hint.
    expect(router.presses[0]).toMatchObject({ token: 'tok-f-prod', actor: { userId: String(VIEWER) }, chat: groupChat(GROUP) });
    expect(tg.messagesIn(GROUP)).toHaveLength(1);
    expect(tg.messagesIn(GROUP)[0]!.edits).toBe(0);

    // Fix under a message (an alert, a verdict) must not overwrite it: the plan comes as a new message.
    await tg.userPresses(GROUP, OPERATOR, status.message_id, 'fix:tok-f-prod');
    const confirm = await tg.waitFor(() => tg.messagesIn(GROUP).find((m) => m.text?.includes('restart the gateway?')));
    expect(confirm.message_id).not.toBe(status.message_id);
    expect(tg.messagesIn(GROUP)[0]!.edits).toBe(0);
    expect(confirm.buttons.map((b) => b.text)).toEqual(['Confirm', 'Cancel']);
    // Answered with a short toast saying what happens (the plan comes as a new message).
    expect(String(tg.calls('answerCallbackQuery')[1]!.params.text)).toMatch(/prod/);

    // Confirm continues the plan's own message.
    await tg.userPresses(GROUP, OPERATOR, confirm.message_id, 'confirm:tok-c-prod');
    await tg.waitFor(() => tg.messagesIn(GROUP)[1]!.text?.includes('fix queued'));
    expect(tg.messagesIn(GROUP)[1]!.buttons).toEqual([]);
    // The job's result lands in the same message.
    await adapter!.deliver({ chat: groupChat(GROUP), reply: reply('prod: fixed', { tone: 'ok' }), messageKey: 'job:fix-prod' });
    expect(tg.messagesIn(GROUP)).toHaveLength(2);
    expect(tg.messagesIn(GROUP)[1]!.text).toBe('✅ prod: fixed');
  });

  it('edits a job message in place as it moves queued → running → result, even when the worker is faster than the reply', async () => {
    const a = makeAdapter();
    const early: Array<Promise<void>> = [];
    router.onQueued = (key, chat) => early.push(a.deliver({ chat, reply: reply('prod: diagnosing', { tone: 'pending' }), messageKey: key }));
    await a.start();
    await tg.userSends(OPERATOR, OPERATOR, '/diagnose prod');
    await tg.waitFor(() => early.length === 1);
    await early[0];
    await a.deliver({ chat: privateChat(OPERATOR), reply: reply('prod: token mismatch', { tone: 'warn', detail: 'reason=token_mismatch' }), messageKey: 'job:diag-prod' });
    const msgs = tg.messagesIn(OPERATOR);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.text).toBe('⚠️ prod: token mismatch\n\nreason=token_mismatch');
    expect(msgs[0]!.edits).toBe(2);
    expect(await refs.get('telegram', 'job:diag-prod')).toBe(`${OPERATOR}:${msgs[0]!.message_id}`);
    expect(await redis.ttl(new KeySpace(`${PREFIX}:${testNo}`).messageRef('telegram', 'job:diag-prod'))).toBeGreaterThan(0);

    // Same content again: Telegram says "not modified", which is success.
    await a.deliver({ chat: privateChat(OPERATOR), reply: reply('prod: token mismatch', { tone: 'warn', detail: 'reason=token_mismatch' }), messageKey: 'job:diag-prod' });
    expect(tg.calls('editMessageText').at(-1)!.status).toBe(400);

    // The message was deleted by someone: the next delivery posts a new one and remembers it.
    await fetch(`${tg.apiRoot}/bot${tg.token}/deleteMessage?chat_id=${OPERATOR}&message_id=${msgs[0]!.message_id}`);
    await a.deliver({ chat: privateChat(OPERATOR), reply: reply('prod: healthy', { tone: 'ok' }), messageKey: 'job:diag-prod' });
    const after = tg.messagesIn(OPERATOR);
    expect(after.map((m) => m.text)).toEqual(['✅ prod: healthy']);
    expect(await refs.get('telegram', 'job:diag-prod')).toBe(`${OPERATOR}:${after[0]!.message_id}`);
  });

  it('splits long replies at 4096 characters and sends long output as a redacted document', async () => {
    await makeAdapter().start();
    await tg.userSends(OPERATOR, OPERATOR, '/long');
    const msgs = await tg.waitFor(() => {
      const m = tg.messagesIn(OPERATOR);
      return m.some((x) => x.document) ? m : undefined;
    });
    const texts = msgs.filter((m) => m.text !== undefined);
    expect(texts.length).toBeGreaterThan(1);
    for (const m of texts) expect(m.raw!.length).toBeLessThanOrEqual(4096);
    expect(texts.map((m) => m.text).join('\n')).toContain('row 299: some text');
    const doc = msgs.find((m) => m.document)!;
    expect(doc.document!.file_name).toBe(DETAIL_FILENAME);
    expect(doc.document!.content).toContain('log line');
    expect(doc.document!.content).not.toContain('supersecretvalue');
    expect(msgs.indexOf(doc)).toBe(msgs.length - 1);
  });

  it('retries an injected 429 (auto-retry) and keeps the order of the chat', async () => {
    const a = makeAdapter();
    tg.addChat(OPERATOR, 'private');
    tg.inject('sendMessage', '429', 1, { chatId: OPERATOR });
    await Promise.all([1, 2, 3].map((n) => a.deliver({ chat: privateChat(OPERATOR), reply: reply(`alert ${n}`) })));
    expect(tg.messagesIn(OPERATOR).map((m) => m.text)).toEqual(['ℹ️ alert 1', 'ℹ️ alert 2', 'ℹ️ alert 3']);
    const statuses = tg.calls('sendMessage').map((c) => c.status);
    expect(statuses).toEqual([429, 200, 200, 200]);
    const [first, retried] = tg.calls('sendMessage');
    expect(retried!.at - first!.at).toBeGreaterThanOrEqual(900); // waited retry_after = 1 s
  });

  it('paces messages into one chat', async () => {
    const a = makeAdapter({ limits: { perChatIntervalMs: 300, perChatBurst: 1 } });
    tg.addChat(OPERATOR, 'private');
    tg.addChat(VIEWER, 'private');
    await Promise.all([
      ...[1, 2, 3].map((n) => a.deliver({ chat: privateChat(OPERATOR), reply: reply(`m${n}`) })),
      a.deliver({ chat: privateChat(VIEWER), reply: reply('other chat') }),
    ]);
    const at = tg.calls('sendMessage').filter((c) => Number(c.params.chat_id) === OPERATOR).map((c) => c.at);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(250);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(250);
    const other = tg.calls('sendMessage').find((c) => Number(c.params.chat_id) === VIEWER)!;
    expect(other.at - at[0]!).toBeLessThan(250); // another chat does not wait behind this one
  });

  it("answers Confirm at once in a group whose pace the bot's own messages just filled, and keeps part of the group's minute for people", async () => {
    // Telegram's shape, scaled: a bucket of 3 calls into one chat, one back per 1.5 s, the last kept for feedback;
    // 7 calls per 10 s (the "minute") into the group, 2 kept for feedback. The press must land before the bot's
    // 3rd message (3 s later): room for a test loop stalled by a busy machine.
    const a = makeAdapter({ limits: { perChatIntervalMs: 1500, perChatBurst: 3, perGroupPerMinute: 7, groupWindowMs: 10_000, globalPerSecond: 1000 } });
    await a.start();
    tg.addChat(GROUP, 'supergroup');
    const sends = () => tg.calls('sendMessage').filter((c) => c.status === 200 && Number(c.params.chat_id) === GROUP);
    const plan = reply('prod: restart the gateway?', { tone: 'warn', buttons: [{ label: 'Confirm', action: 'confirm', token: 'tok-c-prod' }] });
    await a.deliver({ chat: groupChat(GROUP), reply: plan, messageKey: 'job:plan' });
    // The bot's own traffic right before the press: progress messages use the bot's share of the chat's burst, more wait.
    const own = [1, 2, 3, 4, 5].map((n) => a.deliver({ chat: groupChat(GROUP), reply: reply(`host${n}: diagnosing`, { tone: 'pending' }), messageKey: `job:d${n}` }));
    // The plan and the first progress message take the bot's share of the burst; the next ones go in pairs
    // one lane window (2 intervals) later. Pressed in between, while only the reserved call is left.
    await tg.waitFor(() => sends().length >= 2);
    expect(sends()).toHaveLength(2);
    const planId = tg.messagesIn(GROUP)[0]!.message_id;
    const pressedAt = Date.now();
    await tg.userPresses(GROUP, OPERATOR, planId, 'confirm:tok-c-prod');
    const edited = await tg.waitFor(() => tg.calls('editMessageText').find((c) => c.status === 200 && c.params.message_id === planId), 5000);
    // At once, not when the chat's bucket refills (as the bot's next message does) and not after the waiting messages.
    expect(edited.at - pressedAt).toBeLessThan(700);
    expect(sends().filter((c) => c.at < edited.at).length).toBeLessThanOrEqual(4);
    expect(tg.messagesIn(GROUP)[0]!.text).toBe('⏳ prod: fix queued');
    // The group's minute: 5 of 7 calls for the bot's own traffic (plan, 3 progress, and the press's edit
    // counts too); the last 2 only for people. The 4th and 5th progress messages wait for the minute…
    await tg.waitFor(() => sends().length === 4, 5000);
    await new Promise((r) => setTimeout(r, 3500)); // longer than the chat's refill: only the group's minute holds them
    expect(sends()).toHaveLength(4);
    // …while a person's command is still answered at once.
    const askedAt = Date.now();
    await tg.userSends(GROUP, OPERATOR, '/status', { chatType: 'supergroup' });
    const answer = await tg.waitFor(() => tg.messagesIn(GROUP).find((m) => m.text?.includes('Fleet')), 5000);
    expect(answer).toBeDefined();
    expect(sends().at(-1)!.at - askedAt).toBeLessThan(700);
    expect(sends()).toHaveLength(5);
    await Promise.all(own); // the last two go out when the group's window turns
    expect(sends()).toHaveLength(7);
  }, 30_000);

  it('fails a blocked chat with PermanentDeliveryError, logs it once, and still delivers to other chats', async () => {
    const a = makeAdapter();
    tg.addChat(OPERATOR, 'private');
    tg.addChat(VIEWER, 'private');
    tg.blockBot(VIEWER);
    const results = await Promise.allSettled([
      a.deliver({ chat: privateChat(VIEWER), reply: reply('to blocked 1') }),
      a.deliver({ chat: privateChat(OPERATOR), reply: reply('to operator') }),
      a.deliver({ chat: privateChat(VIEWER), reply: reply('to blocked 2') }),
    ]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: expect.any(PermanentDeliveryError) });
    expect(results[2]).toMatchObject({ status: 'rejected', reason: expect.any(PermanentDeliveryError) });
    expect(results[1]!.status).toBe('fulfilled');
    expect(tg.messagesIn(OPERATOR).map((m) => m.text)).toEqual(['ℹ️ to operator']);
    expect(logs.filter((l) => l.level === 'warn' && (l.obj as { chatId?: string }).chatId === String(VIEWER))).toHaveLength(1);
  });

  it('stops at start with TelegramConflictError when another process polls the token (409)', async () => {
    tg.inject('getUpdates', '409', 1);
    const err = await makeAdapter().start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TelegramConflictError);
    const message = (err as Error).message;
    expect(message).toMatch(/another process is already polling/);
    expect(message).toMatch(/OpenClaw's own Telegram channel bot token/);
    expect(message).toMatch(/@BotFather/);
    expect(message).not.toContain(tg.token);
  });

  it('a later conflict (a second poller on the same token) marks receiving down; polling goes on and recovers', async () => {
    const a = makeAdapter();
    await a.start();
    expect(a.receiveState()).toEqual({ ok: true });
    // Another process polls with our token: Telegram terminates our pending poll with 409, and our next ones too.
    tg.inject('getUpdates', '409', 2);
    const other = fetch(`${tg.apiRoot}/bot${tg.token}/getUpdates?timeout=1`);
    const down = await tg.waitFor(() => { const s = a.receiveState(); return s.ok ? undefined : s; }, 5000, 'receiving down');
    expect(down.reason).toMatch(/409 Conflict/);
    expect(logs.some((l) => l.level === 'error' && JSON.stringify(l.obj).includes('409'))).toBe(true);
    await other;
    // The injected 409s run out (the other poller went away): polling resumes by itself and a command is answered.
    await tg.waitFor(() => a.receiveState().ok, 15_000, 'receiving again');
    await tg.userSends(OPERATOR, OPERATOR, '/help');
    await tg.waitFor(() => tg.messagesIn(OPERATOR).length > 0, 10_000, 'the /help answer');
  }, 30_000);

  it('never sends a private reply into a group when it has no user to DM', async () => {
    const a = makeAdapter();
    tg.addChat(GROUP, 'supergroup');
    await expect(a.deliver({ chat: groupChat(GROUP), reply: reply('https://gw.example/#token=x', { private: true }) })).rejects.toBeInstanceOf(
      PermanentDeliveryError,
    );
    expect(tg.calls('sendMessage')).toEqual([]);
  });

  it('refuses to poll (and keeps the webhook) when another program has a webhook on the token', async () => {
    await fetch(`${tg.apiRoot}/bot${tg.token}/setWebhook?url=${encodeURIComponent('https://openclaw.example/tg')}`);
    await expect(makeAdapter().start()).rejects.toMatchObject({ kind: 'webhook', code: 'TELEGRAM_CONFLICT' });
    expect(tg.calls('deleteWebhook')).toEqual([]);
  });

  it('escapes HTML in every dynamic value (a host named <script>)', async () => {
    await makeAdapter().start();
    await tg.userSends(OPERATOR, OPERATOR, '/status <script>alert(1)</script>');
    const msg = await tg.waitFor(() => tg.messagesIn(OPERATOR)[0]);
    expect(msg.text).toBe('❌ <script>alert(1)</script>: gateway down\n\nHost: <script>alert(1)</script>');
    expect(msg.raw).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(tg.calls('sendMessage').every((c) => c.status === 200)).toBe(true);
  });

  it('sends private replies to the user, or says in the group how to enable that', async () => {
    await makeAdapter().start();
    await tg.userSends(GROUP, VIEWER, '/link', { chatType: 'supergroup' });
    const hint = await tg.waitFor(() => tg.messagesIn(GROUP)[0]);
    expect(hint.text).toContain(`open a chat with @${tg.botUsername}`);
    expect(hint.text).not.toContain('gw.example');

    await tg.userSends(OPERATOR, OPERATOR, '/start'); // the operator has a private chat with the bot
    await tg.waitFor(() => tg.messagesIn(OPERATOR).length === 1);
    await tg.userSends(GROUP, OPERATOR, '/link', { chatType: 'supergroup' });
    const dm = await tg.waitFor(() => tg.messagesIn(OPERATOR).find((m) => m.text?.includes('gw.example')));
    expect(dm.text).toContain('Your dashboard link');
    expect(tg.messagesIn(GROUP)).toHaveLength(1);
  });

  it('follows a group that became a supergroup', async () => {
    const a = makeAdapter();
    await a.start();
    tg.addChat(-30, 'group', 'Ops');
    await a.deliver({ chat: groupChat(-30), reply: reply('queued'), messageKey: 'job:m1' });
    tg.migrateGroup(-30, -1000030);
    await tg.waitFor(() => logs.find((l) => l.msg?.includes('became a supergroup')));
    await a.deliver({ chat: groupChat(-30), reply: reply('alert after migration') });
    expect(tg.messagesIn(-1000030).map((m) => m.text)).toEqual(['ℹ️ alert after migration']);
    // The old message cannot be edited any more: the job's next state goes to the supergroup as a new message.
    await a.deliver({ chat: groupChat(-30), reply: reply('done'), messageKey: 'job:m1' });
    expect(tg.messagesIn(-1000030).map((m) => m.text)).toEqual(['ℹ️ alert after migration', 'ℹ️ done']);
  });

  it('follows a migration it learns from a send error (400 with migrate_to_chat_id)', async () => {
    const a = makeAdapter(); // not polling: the service update is never seen
    tg.addChat(-40, 'group');
    tg.migrateGroup(-40, -1000040);
    await a.deliver({ chat: groupChat(-40), reply: reply('hello') });
    expect(tg.messagesIn(-1000040).map((m) => m.text)).toEqual(['ℹ️ hello']);
    expect(await refs.get('telegram', 'chat-migrated:-40')).toBe('-1000040');
  });

  it('lets a delivery fail (for the notify queue to retry) during an outage and succeed after', async () => {
    const a = makeAdapter();
    tg.addChat(OPERATOR, 'private');
    tg.outage(true);
    const err = await a.deliver({ chat: privateChat(OPERATOR), reply: reply('during outage') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(PermanentDeliveryError);
    tg.outage(false);
    await a.deliver({ chat: privateChat(OPERATOR), reply: reply('after outage') });
    expect(tg.messagesIn(OPERATOR).map((m) => m.text)).toEqual(['ℹ️ after outage']);
  });

  it('works in webhook mode, checking the secret token', async () => {
    const port = await freePort();
    const a = makeAdapter({
      mode: 'webhook',
      webhook: { url: `http://127.0.0.1:${port}/tg-hook`, secretToken: 'hook-secret-123', port, path: '/tg-hook' },
    });
    await a.start();
    expect(tg.calls('setWebhook')[0]!.params).toMatchObject({ secret_token: 'hook-secret-123' });
    await tg.userSends(OPERATOR, OPERATOR, '/status prod');
    const msg = await tg.waitFor(() => tg.messagesIn(OPERATOR)[0]);
    expect(msg.text).toContain('prod: gateway down');
    const forged = await fetch(`http://127.0.0.1:${port}/tg-hook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'wrong' },
      body: JSON.stringify({ update_id: 999, message: { message_id: 1, date: 0, chat: { id: 1, type: 'private' }, text: '/fix prod' } }),
    });
    expect(forged.status).toBe(401);
    expect(router.commands).toHaveLength(1);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
