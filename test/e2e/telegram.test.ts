/**
 * End to end through Telegram: a user in the Bot API stand-in → the real grammY adapter → the real router →
 * BullMQ on real Redis → workers → SSH to a real sshd → the OpenClaw host stand-in → notify queue → back to
 * Telegram. Asserts on what the user sees (messages, edits in place, keyboards, toasts) and on what ran on the host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/app-harness.js';
import { startTelegramStandin, type RecordedCall, type SeenMessage, type TelegramStandin } from '../support/telegram/telegram-standin.js';
import { createApp } from '../../src/main.js';
import { TelegramConflictError } from '../../src/chat/telegram/telegram-adapter.js';
import { createLogger } from '../../src/util/logger.js';
import { addLatency } from '../support/telegram/e2e-latency.js';

// Immutable Telegram user ids (people in the config) and one group per flow, so that Telegram's per-group
// pacing (20 calls a minute, which the adapter honours) never makes one flow wait for another's messages.
const OPERATOR = 1001;
const OPERATOR2 = 1002;
const VIEWER = 1003;
const STRANGER = 1099;
const G = {
  status: -2001,
  diagnose: -2002,
  fix: -2003,
  picker: -2004,
  stale: -2005,
  outage: -2006,
  staging: -2007,
} as const;

/** What changes the host: none of it may run before a confirmation. */
const MUTATING = /doctor --fix|systemctl --user (start|stop|restart)|docker (restart|start|stop)|openclaw gateway (restart|start|stop|install)/;

let tg: TelegramStandin;
let h: Harness;

beforeAll(async () => {
  tg = await startTelegramStandin();
  h = await startHarness({
    app: { adapters: ['console', 'telegram'] },
    secrets: { telegramToken: tg.token },
    moreHosts: () => [{ name: 'staging' }],
    extra: {
      telegram: { mode: 'polling', apiRoot: tg.apiRoot },
      fix: { maxAttemptsPerHour: 20, verifyWindowSec: 1 },
      people: [
        { platform: 'console', userId: 'local', role: 'admin' },
        { platform: 'telegram', userId: OPERATOR, role: 'operator', name: 'Ada' },
        { platform: 'telegram', userId: OPERATOR2, role: 'operator', name: 'Bob' },
        { platform: 'telegram', userId: VIEWER, role: 'viewer', name: 'Vic' },
      ],
      chats: [
        ...[G.status, G.diagnose, G.fix, G.picker, G.stale, G.outage].map((chatId) => ({ platform: 'telegram', chatId, hosts: ['prod'] })),
        { platform: 'telegram', chatId: G.staging, hosts: ['staging'] },
      ],
    },
  });
  // The operator has pressed Start in a private chat with the bot, as the README asks (private links go there).
  await tg.userSends(OPERATOR, OPERATOR, '/start', { firstName: 'Ada' });
  await tg.waitFor(() => tg.messagesIn(OPERATOR).length === 1, 10_000, 'the /start answer');
}, 60_000);

afterAll(async () => {
  await h?.close();
  await tg?.stop();
});

// ------------------------------------------------------------------ helpers

/** A user types in a group (a supergroup, as most Telegram groups are today); returns their message id. */
const say = (chat: number, user: number, text: string): Promise<number> =>
  tg.userSends(chat, user, text, { chatType: chat < 0 ? 'supergroup' : 'private', firstName: `U${user}` });

/** Bot messages in `chat` sent after the user message `after`. */
const botAfter = (chat: number, after: number): SeenMessage[] => tg.messagesIn(chat).filter((m) => m.message_id > after);

/** Wait for the bot's one message after `after` to satisfy `pred`; returns it. */
async function waitMessage(chat: number, after: number, pred: (m: SeenMessage) => boolean, timeoutMs: number, what: string): Promise<SeenMessage> {
  return tg.waitFor(() => botAfter(chat, after).find(pred), timeoutMs, what);
}

/** Successful Bot API calls into `chat`, optionally of one method and about one message. */
const callsInto = (chat: number, method?: string, messageId?: number): RecordedCall[] =>
  tg
    .calls(method)
    .filter((c) => c.status === 200 && Number(c.params.chat_id) === chat && (messageId === undefined || Number(c.params.message_id) === messageId));

/** Title line of a message as the user sees it (tone mark + title). */
const titleOf = (m: SeenMessage | undefined): string => m?.text?.split('\n')[0] ?? '';

/** Everything the bot ever put into a chat: sends and edits, raw text as sent. */
const everythingSentTo = (chat: number): string => JSON.stringify(tg.calls().filter((c) => Number(c.params.chat_id) === chat).map((c) => c.params));

const ran = async (): Promise<string[]> => (await h.standin.calls()).map((argv) => argv.join(' '));

/** The toast answered to the latest button press (answerCallbackQuery text; undefined = none). */
async function lastToast(countBefore: number): Promise<string | undefined> {
  const call = await tg.waitFor(() => tg.calls('answerCallbackQuery')[countBefore], 10_000, 'answerCallbackQuery');
  expect(call.status).toBe(200);
  return call.params.text === undefined ? undefined : String(call.params.text);
}

/** Jobs in a queue, any state. */
async function jobCount(queue: 'diagnose' | 'fix'): Promise<number> {
  const counts = await h.app.queues[queue].getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

const buttonData = (m: SeenMessage, text: RegExp): string => {
  const b = m.buttons.find((x) => text.test(x.text));
  expect(b, `a button ${text} on "${titleOf(m)}" (has ${m.buttons.map((x) => x.text).join(', ')})`).toBeDefined();
  return b!.data;
};

// ------------------------------------------------------------------ flows

describe('telegram e2e: commands in a group', () => {
  it('/status@bot prod: one message, edited in place from "Checking…" to "prod: OK"; the probe ran on the host', async () => {
    await h.standin.setScenario('healthy');
    await h.standin.clearCalls();
    const asked = await say(G.status, OPERATOR, `/status@${tg.botUsername} prod`);
    const done = await waitMessage(G.status, asked, (m) => titleOf(m) === '✅ prod: OK', 20_000, 'prod: OK');

    expect(botAfter(G.status, asked)).toHaveLength(1);
    expect(done.text).toContain('OpenClaw 2026.9.6');
    expect(done.buttons).toEqual([]);
    // Sent once as "Checking…", then only edits of that same message.
    const sends = callsInto(G.status, 'sendMessage');
    expect(sends).toHaveLength(1);
    expect(String(sends[0]!.params.text)).toBe('⏳ <b>Checking prod…</b>');
    const edits = callsInto(G.status, 'editMessageText', done.message_id);
    expect(edits.length).toBeGreaterThanOrEqual(1);
    expect(done.edits).toBe(edits.length);
    expect(String(edits.at(-1)!.params.text)).toContain('prod: OK');
    // The light probe (issue 11): ss and GET /healthz, no openclaw CLI.
    expect(await ran()).toContain('ss -tlnp');
  });

  it('/diagnose prod on a token mismatch: verdict with evidence and Fix / Diagnose again; a viewer pressing Fix gets a toast, nothing runs', async () => {
    await h.standin.setScenario('token_mismatch');
    await h.standin.clearCalls();
    const asked = await say(G.diagnose, OPERATOR, '/diagnose prod');
    const verdict = await waitMessage(G.diagnose, asked, (m) => m.buttons.length > 0, 30_000, 'the verdict');

    expect(botAfter(G.diagnose, asked)).toHaveLength(1);
    expect(titleOf(verdict)).toMatch(/^⚠️ prod: (token mismatch|stale tab|token rotated)/);
    expect(verdict.text).toMatch(/4008|token_mismatch/);
    expect(verdict.buttons.map((b) => b.text)).toEqual(['Fix', 'Diagnose again']);
    expect(verdict.edits).toBeGreaterThanOrEqual(1);
    expect((await ran()).some((c) => MUTATING.test(c))).toBe(false);

    // A viewer presses Fix: refused politely in a toast; the message stays as it is, nothing is queued.
    await h.standin.clearCalls();
    const [diagJobs, fixJobs, answered, edits] = [await jobCount('diagnose'), await jobCount('fix'), tg.calls('answerCallbackQuery').length, verdict.edits];
    await tg.userPresses(G.diagnose, VIEWER, verdict.message_id, buttonData(verdict, /^Fix$/));
    expect(await lastToast(answered)).toBe('Sorry, pressing fix needs the operator role.');
    await new Promise((r) => setTimeout(r, 300));
    const after = botAfter(G.diagnose, asked);
    expect(after).toHaveLength(1);
    expect(after[0]!.edits).toBe(edits);
    expect(after[0]!.buttons.map((b) => b.text)).toEqual(['Fix', 'Diagnose again']);
    expect(await jobCount('diagnose')).toBe(diagJobs);
    expect(await jobCount('fix')).toBe(fixJobs);
    expect(await ran()).toEqual([]);

    // The operator presses Diagnose again: a new verdict comes, and the old one's spent buttons are taken away.
    await tg.userPresses(G.diagnose, OPERATOR, verdict.message_id, buttonData(verdict, /^Diagnose again$/));
    await waitMessage(G.diagnose, verdict.message_id, (m) => m.buttons.length > 0, 30_000, 'the second verdict');
    const old = await tg.waitFor(() => {
      const m = tg.messagesIn(G.diagnose).find((x) => x.message_id === verdict.message_id);
      return m && m.buttons.length === 0 ? m : undefined;
    }, 10_000, 'the first verdict without buttons');
    expect(titleOf(old)).toBe(titleOf(verdict));
  });

  it('/fix prod on a stopped gateway: plan, refusals for others, Confirm → progress edits → fixed; stop, doctor --fix, start in order', async () => {
    await h.standin.setScenario('gateway_down');
    await h.standin.clearCalls();
    const asked = await say(G.fix, OPERATOR, '/fix prod');
    const plan = await waitMessage(G.fix, asked, (m) => m.buttons.length > 0, 30_000, 'the fix plan');
    expect(titleOf(plan)).toMatch(/^.+ prod: .+ — confirm the fix\?$/);
    expect(plan.text).toMatch(/doctor --fix/);
    expect(plan.buttons.map((b) => b.text)).toEqual(['Confirm fix', 'Cancel']);
    // Nothing changed on the host before the confirmation.
    expect((await ran()).some((c) => MUTATING.test(c))).toBe(false);
    const confirm = buttonData(plan, /^Confirm fix$/);
    const cancel = buttonData(plan, /^Cancel$/);
    const fixJobs = await jobCount('fix');

    // A viewer presses Confirm: refused by role.
    let answered = tg.calls('answerCallbackQuery').length;
    await tg.userPresses(G.fix, VIEWER, plan.message_id, confirm);
    expect(await lastToast(answered)).toBe('Sorry, pressing confirm needs the operator role.');
    // Another operator presses Confirm (or Cancel): the confirmation is bound to the requester.
    answered = tg.calls('answerCallbackQuery').length;
    await tg.userPresses(G.fix, OPERATOR2, plan.message_id, confirm);
    expect(await lastToast(answered)).toBe('Only the person who asked for this fix can confirm or cancel it.');
    answered = tg.calls('answerCallbackQuery').length;
    await tg.userPresses(G.fix, OPERATOR2, plan.message_id, cancel);
    expect(await lastToast(answered)).toBe('Only the person who asked for this fix can confirm or cancel it.');
    expect(await jobCount('fix')).toBe(fixJobs);
    expect((await ran()).some((c) => MUTATING.test(c))).toBe(false);
    expect(botAfter(G.fix, asked)[0]!.buttons).toHaveLength(2);

    // The requester confirms: the same message goes through progress to the outcome.
    await h.standin.clearCalls();
    answered = tg.calls('answerCallbackQuery').length;
    const editsBefore = callsInto(G.fix, 'editMessageText', plan.message_id).length;
    const undo = addLatency(tg, ['answerCallbackQuery'], 300); // as slow as real Telegram: the job must not overtake the edit
    try {
      await tg.userPresses(G.fix, OPERATOR, plan.message_id, confirm);
      // A short toast at once (issue 13.4): in a busy group the message itself may take a while to change.
      expect(await lastToast(answered)).toBe('prod: fix confirmed, queued.');
    } finally {
      undo();
    }
    const outcome = await waitMessage(G.fix, asked, (m) => /^✅ prod: fixed/.test(titleOf(m)), 60_000, 'prod: fixed');
    expect(outcome.message_id).toBe(plan.message_id);
    expect(botAfter(G.fix, asked)).toHaveLength(1);
    expect(outcome.buttons).toEqual([]);
    const states = callsInto(G.fix, 'editMessageText', plan.message_id)
      .slice(editsBefore)
      .map((c) => String(c.params.text).split('\n')[0]!);
    const at = (re: RegExp): number => states.findIndex((s) => re.test(s));
    expect(at(/fix confirmed, queued/), states.join(' | ')).toBe(0);
    // The states shown, in order, each once (the plan decides how many steps): a stale progress state may be
    // left out when a newer state of the message was already waiting to be sent (issue 13.4), never shown late.
    const total = Number(/step \d+\/(\d+)/.exec(states.join('\n'))?.[1] ?? 0);
    const order = [/fix confirmed, queued/, ...Array.from({ length: total }, (_, i) => new RegExp(`prod: fixing gateway down — step ${i + 1}/${total}`)), /verifying/, /prod: fixed/];
    const ranks = states.map((st) => order.findIndex((re) => re.test(st)));
    expect(ranks.every((r, i) => r >= 0 && (i === 0 || r > ranks[i - 1]!)), states.join(' | ')).toBe(true);
    expect(at(/prod: fixed/)).toBe(states.length - 1);

    const calls = await ran();
    const stop = calls.findIndex((c) => /^systemctl --user stop -- openclaw-gateway\.service/.test(c));
    const doctor = calls.findIndex((c) => c === 'openclaw doctor --fix');
    const start = calls.findIndex((c) => /^systemctl --user start -- openclaw-gateway\.service/.test(c));
    expect(stop, calls.join('\n')).toBeGreaterThanOrEqual(0);
    expect(doctor).toBeGreaterThan(stop);
    expect(start).toBeGreaterThan(doctor);
    expect(calls.filter((c) => c === 'openclaw doctor --fix')).toHaveLength(1);

    // Spent buttons: Confirm again, its sibling Cancel, and a token whose state has expired from Redis (what an
    // old keyboard holds after the TTL): all refused in a toast; nothing runs twice.
    await h.standin.clearCalls();
    for (const data of [confirm, cancel, 'AAAAAAAAAAAAAAAAAAAAAA']) {
      answered = tg.calls('answerCallbackQuery').length;
      await tg.userPresses(G.fix, OPERATOR, plan.message_id, data, { allowMissingButton: true });
      expect(await lastToast(answered)).toBe('This button has expired or was already used. Send the command again.');
    }
    expect(await jobCount('fix')).toBe(fixJobs + 1);
    expect(await ran()).toEqual([]);
    expect(titleOf(botAfter(G.fix, asked)[0])).toMatch(/^✅ prod: fixed/);
  }, 90_000);

  it('refuses a user who is not in the config, and a host that is not bound to the chat; nothing runs', async () => {
    await h.standin.clearCalls();
    const before = await jobCount('diagnose');
    const a = await say(G.status, STRANGER, '/status prod');
    const refused = await waitMessage(G.status, a, () => true, 10_000, 'the refusal');
    expect(titleOf(refused)).toBe(
      `❌ You are not allowed to use clawmedic (user id ${STRANGER} on telegram is not in the config). Ask an admin to add you under "people".`,
    );
    // Told once: five more from the stranger get no reply at all (issue 12.6), and queue nothing.
    for (let i = 0; i < 5; i++) await say(G.status, STRANGER, '/status prod');
    const b = await say(G.status, OPERATOR, '/diagnose staging');
    const notBound = await waitMessage(G.status, b, () => true, 10_000, 'the refusal');
    expect(titleOf(notBound)).toBe('❌ Host "staging" is not bound to this chat.');
    expect(botAfter(G.status, a).filter((m) => titleOf(m).includes('not allowed'))).toHaveLength(1);
    // The same host is fine where it is bound.
    await new Promise((r) => setTimeout(r, 200));
    expect(await jobCount('diagnose')).toBe(before);
    expect(await ran()).toEqual([]);
    const c = await say(G.staging, VIEWER, '/status staging');
    await waitMessage(G.staging, c, (m) => titleOf(m) === '✅ staging: OK', 20_000, 'staging: OK');
    expect(await jobCount('diagnose')).toBe(before + 1);
    // The light probe (issue 11): ss and GET /healthz, no openclaw CLI.
    expect(await ran()).toContain('ss -tlnp');
  });

  it('/diagnose without a host offers the chat\'s hosts as buttons; pressing one starts the diagnose in that message (slow Telegram)', async () => {
    await h.standin.setScenario('gateway_down');
    await h.standin.clearCalls();
    const asked = await say(G.picker, OPERATOR, '/diagnose');
    const picker = await waitMessage(G.picker, asked, (m) => m.buttons.length > 0, 10_000, 'the host picker');
    expect(titleOf(picker)).toBe('ℹ️ /diagnose: which host?');
    expect(picker.buttons.map((b) => b.text)).toEqual(['prod']);
    expect(await ran()).toEqual([]);

    // Real Telegram takes 50-300 ms to answer a callback query; the job must not overtake the adapter meanwhile.
    const undo = addLatency(tg, ['answerCallbackQuery'], 300);
    try {
      const answered = tg.calls('answerCallbackQuery').length;
      await tg.userPresses(G.picker, OPERATOR, picker.message_id, picker.buttons[0]!.data);
      expect(await lastToast(answered)).toBe('Diagnosing prod…');
    } finally {
      undo();
    }
    const verdict = await waitMessage(G.picker, asked, (m) => /^.+ prod: gateway (down|stopped)/i.test(titleOf(m)), 30_000, 'the verdict');
    expect(verdict.message_id).toBe(picker.message_id);
    expect(botAfter(G.picker, asked)).toHaveLength(1);
    expect(verdict.buttons.map((b) => b.text)).toEqual(['Fix', 'Diagnose again']);
    // The diagnose ran on the host: its gateway hello (in place of `openclaw gateway status --json` since issue 11).
    expect((await ran()).some((c) => c === 'node hello')).toBe(true);
  });

  it('/fix for a stale browser tab in a group: the tokenized link goes to the user privately, never to the group; no restart', async () => {
    await h.standin.setScenario('stale_client');
    await h.standin.clearCalls();
    const dmBefore = tg.messagesIn(OPERATOR).length;
    const asked = await say(G.stale, OPERATOR, '/fix prod');
    const plan = await waitMessage(G.stale, asked, (m) => m.buttons.length > 0, 30_000, 'the fix plan');
    expect(titleOf(plan)).toMatch(/stale tab/);
    expect(plan.text).toContain('(no restart)');
    await tg.userPresses(G.stale, OPERATOR, plan.message_id, buttonData(plan, /^Confirm fix$/));

    const dm = await tg.waitFor(() => tg.messagesIn(OPERATOR).slice(dmBefore).find((m) => m.text?.includes('#token=')), 30_000, 'the private link');
    expect(titleOf(dm)).toBe('ℹ️ prod: fresh dashboard link (private)');
    // The link is usable: it carries the gateway's token itself, not "<redacted>".
    const token = /^http:\/\/127\.0\.0\.1:\d+\/#token=([A-Za-z0-9._~-]{8,})$/m.exec(dm.text ?? '')?.[1];
    expect(token, dm.text).toBeDefined();
    const outcome = await waitMessage(G.stale, asked, (m) => !/^⏳/.test(titleOf(m)) && m.buttons.length === 0 && m.edits > plan.edits, 60_000, 'the outcome');
    expect(titleOf(outcome)).toMatch(/^.+ prod: (fixed|action needed on your side) \(stale tab\)/);
    expect(botAfter(G.stale, asked)).toHaveLength(1);
    // Not in the group: not in what it shows now, and not in anything ever sent or edited there.
    expect(everythingSentTo(G.stale)).not.toContain('#token=');
    expect(tg.messagesIn(G.stale).some((m) => m.text?.includes('#token='))).toBe(false);
    expect(everythingSentTo(G.stale)).not.toContain(token!);
    // Nor does it stay behind in Redis (queued deliveries, audit trail).
    const notifyJobs = await h.app.queues.notify.telegram.getJobs(['completed', 'failed', 'delayed', 'waiting']);
    expect(JSON.stringify(notifyJobs.map((j) => j.data))).not.toContain(token!);
    expect(JSON.stringify(await h.app.audit.recent(undefined, 500))).not.toContain(token!);

    const calls = await ran();
    expect(calls).toContain('openclaw dashboard --json --no-open');
    expect(calls.some((c) => MUTATING.test(c))).toBe(false);
  }, 90_000);
});

describe('telegram e2e: outages and conflicts', () => {
  it('a Telegram outage while a job finishes delays its result; after the outage it arrives in the same message', async () => {
    await h.standin.setScenario('token_mismatch');
    const asked = await say(G.outage, OPERATOR, '/diagnose prod');
    // The adapter answers at once with "Diagnosing…"; the job's own edits are paced at least 1 s after it.
    const first = await waitMessage(G.outage, asked, () => true, 10_000, 'the first reply');
    tg.outage(true);
    let restored = false;
    try {
      expect(titleOf(first)).toMatch(/^⏳ (Diagnosing prod…|prod: gathering evidence)/);
      // The job finishes during the outage and its deliveries fail (and are kept for retry).
      const failedDelivery = async (): Promise<boolean> => {
        const jobs = await h.app.queues.notify.telegram.getJobs(['delayed', 'waiting', 'active', 'failed']);
        return jobs.some((j) => j.data.chat.chatId === String(G.outage) && j.attemptsMade >= 1 && (j.data.reply.buttons?.length ?? 0) > 0);
      };
      const deadline = Date.now() + 30_000;
      while (!(await failedDelivery())) {
        if (Date.now() > deadline) throw new Error('the verdict delivery never failed during the outage');
        await new Promise((r) => setTimeout(r, 50));
      }
      const diag = (await h.app.queues.diagnose.getJobs(['completed'])).filter((j) => j.data.chat.chatId === String(G.outage));
      expect(diag).toHaveLength(1);
      expect(botAfter(G.outage, asked)).toHaveLength(1);
      expect(titleOf(botAfter(G.outage, asked)[0])).toMatch(/^⏳ (Diagnosing prod…|prod: gathering evidence)/);
      await new Promise((r) => setTimeout(r, 1000));
      tg.outage(false);
      restored = true;
    } finally {
      if (!restored) tg.outage(false);
    }
    const verdict = await waitMessage(G.outage, asked, (m) => m.buttons.length > 0, 30_000, 'the verdict after the outage');
    expect(verdict.message_id).toBe(first.message_id);
    expect(titleOf(verdict)).toMatch(/^⚠️ prod: (token mismatch|stale tab|token rotated)/);
    expect(botAfter(G.outage, asked)).toHaveLength(1);
    // Nothing was given up on.
    const failed = (await h.app.queues.notify.telegram.getJobs(['failed'])).filter((j) => j.data.chat.chatId === String(G.outage));
    expect(failed).toEqual([]);
  }, 60_000);

  it('refuses to start when another program polls the same bot token (409), naming OpenClaw\'s bot token', async () => {
    const other = await startTelegramStandin();
    let polling = true;
    // Someone else's long poller (OpenClaw's own Telegram channel, say) on this token: it polls again at once when cut off.
    const rogue = (async () => {
      while (polling) {
        await fetch(`${other.apiRoot}/bot${other.token}/getUpdates?timeout=1`).then((r) => r.text(), () => undefined);
      }
    })();
    try {
      await tg.waitFor(() => other.calls('getUpdates').length > 0, 5000, 'the other poller');
      const loaded = {
        ...h.loaded,
        config: { ...h.loaded.config, telegram: { mode: 'polling' as const, apiRoot: other.apiRoot } },
        secrets: { ...h.loaded.secrets, telegramToken: other.token },
      };
      const started = Date.now();
      const err = await createApp(loaded, { workers: false, adapters: ['telegram'], http: false, redisWaitMs: 3000, logger: createLogger('silent') }).then(
        async (app) => {
          await app.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TelegramConflictError);
      const message = (err as Error).message;
      expect(message).toMatch(/^Telegram answered 409 Conflict: another process is already polling updates for this bot token\./);
      expect(message).toContain("OpenClaw's own Telegram channel bot token");
      expect(message).toContain('@BotFather');
      expect(message).not.toContain(other.token);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      polling = false;
      await rogue;
      await other.stop();
    }
    // The running bot was not disturbed: it still answers.
    const asked = await say(G.status, OPERATOR, '/status prod');
    await waitMessage(G.status, asked, (m) => /prod: /.test(titleOf(m)) && !/^⏳/.test(titleOf(m)), 20_000, 'a status answer');
  }, 30_000);
});
