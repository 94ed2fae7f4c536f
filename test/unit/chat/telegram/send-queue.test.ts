import { describe, expect, it } from 'vitest';
import { PermanentDeliveryError } from '../../../../src/domain/errors.js';
import { SEND_PRIORITY, SUPERSEDED, TelegramSendQueue, isPermanentChatError } from '../../../../src/chat/telegram/send-queue.js';

function recorder() {
  const warnings: Array<{ obj: object; msg?: string }> = [];
  return { warnings, logger: { warn: (obj: object, msg?: string) => warnings.push({ obj, msg }) } };
}
const apiError = (error_code: number, description: string) => Object.assign(new Error(description), { error_code, description });

type Priority = (typeof SEND_PRIORITY)[keyof typeof SEND_PRIORITY];

/** The bot's own `n` calls into group -100 at `priority`; after 200 ms, how many of them went out (the rest wait for the window). */
async function floodGroup(q: TelegramSendQueue, n: number, priority: Priority): Promise<{ sent: () => number }> {
  let sent = 0;
  for (let i = 0; i < n; i++) void q.run('-100', true, async () => void sent++, priority);
  await new Promise((r) => setTimeout(r, 200));
  return { sent: () => sent };
}

/** How long two more calls into group -100 took, one after the other. */
async function twoCallsMs(q: TelegramSendQueue, priority?: Priority): Promise<number> {
  const t0 = Date.now();
  await q.run('-100', true, async () => undefined, priority);
  await q.run('-100', true, async () => undefined, priority);
  return Date.now() - t0;
}

/** Chat A (one call per 30 ms) busy with a send, and an edit of message 5 with buttons waiting behind it. */
function editWaitingInChatA() {
  const { logger } = recorder();
  const q = new TelegramSendQueue(logger, { perChatIntervalMs: 30, perChatBurst: 1 });
  const sent: string[] = [];
  const call = (name: string) => async () => void sent.push(name);
  const busy = q.run('A', false, call('send'));
  const v1 = q.run('A', false, call('v1 with buttons'), SEND_PRIORITY.reply, { message: '5', replaces: true });
  return { q, sent, call, busy, v1 };
}

describe('TelegramSendQueue', () => {
  it('keeps order per chat and spaces calls into one chat', async () => {
    const { logger } = recorder();
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 150, perChatBurst: 1 });
    const seen: Array<{ chat: string; n: number; at: number }> = [];
    const jobs = [0, 1, 2, 3].map((n) =>
      q.run('A', false, async () => {
        const at = Date.now();
        // Uneven durations would reorder an unordered queue.
        await new Promise((r) => setTimeout(r, n === 0 ? 60 : 5));
        seen.push({ chat: 'A', n, at });
        return n;
      }),
    );
    expect(await Promise.all(jobs)).toEqual([0, 1, 2, 3]);
    expect(seen.map((s) => s.n)).toEqual([0, 1, 2, 3]);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.at - seen[i - 1]!.at).toBeGreaterThanOrEqual(140);
    q.close();
  });

  it('lets a short burst through at once, then paces to the average rate', async () => {
    const { logger } = recorder();
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 100, perChatBurst: 3, perChatFeedbackBurst: 0 });
    const t0 = Date.now();
    const at: number[] = [];
    await Promise.all([0, 1, 2, 3, 4, 5].map(() => q.run('A', false, async () => void at.push(Date.now() - t0))));
    expect(at.slice(0, 3).every((t) => t < 80)).toBe(true); // placeholder + result edit are not held back
    expect(at[3]!).toBeGreaterThanOrEqual(280); // the fourth waits for the 3-call window (3 x 100 ms)
    q.close();
  });

  it('does not make one chat wait for another', async () => {
    const { logger } = recorder();
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 1000 });
    const t0 = Date.now();
    await Promise.all(['A', 'B', 'C'].map((c) => q.run(c, false, async () => c)));
    expect(Date.now() - t0).toBeLessThan(500);
    q.close();
  });

  it('a reply to a person overtakes alert edits still waiting in the same group; alerts keep their own order', async () => {
    const { logger } = recorder();
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 50, perChatBurst: 1 });
    const order: string[] = [];
    const task = (name: string) => async () => void order.push(name);
    const alerts = [1, 2, 3, 4].map((n) => q.run('-100', true, task(`alert${n}`), SEND_PRIORITY.alert));
    // The first alert edit is already going out; the reply comes while three more wait.
    await new Promise((r) => setTimeout(r, 10));
    const reply = q.run('-100', true, task('reply'));
    await Promise.all([...alerts, reply]);
    expect(order).toEqual(['alert1', 'reply', 'alert2', 'alert3', 'alert4']);
    q.close();
  });

  it('sends only the newest of the edits of one message still waiting; the stale ones resolve SUPERSEDED unsent', async () => {
    const { logger } = recorder();
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 50, perChatBurst: 1 });
    const sent: string[] = [];
    const call = (name: string) => async () => {
      sent.push(name);
      return name;
    };
    const edit = (n: number) => ({ message: String(n), replaces: true });
    // The lane is busy with a send; three progress edits of message 7 and one edit of message 8 queue up behind it.
    const first = q.run('-100', true, call('send'));
    const step1 = q.run('-100', true, call('7: step 1/4'), SEND_PRIORITY.reply, edit(7));
    const other = q.run('-100', true, call('8: alert'), SEND_PRIORITY.reply, edit(8));
    const step2 = q.run('-100', true, call('7: step 2/4'), SEND_PRIORITY.reply, edit(7));
    const fixed = q.run('-100', true, call('7: fixed'), SEND_PRIORITY.reply, edit(7));
    expect(await Promise.all([first, step1, other, step2, fixed])).toEqual(['send', SUPERSEDED, '8: alert', SUPERSEDED, '7: fixed']);
    // The newest text went out once, at the first waiting edit's place (before message 8's edit).
    expect(sent).toEqual(['send', '7: fixed', '8: alert']);
    // An edit that started is not superseded: a later one is sent after it.
    const again = [q.run('-100', true, call('7: a'), SEND_PRIORITY.reply, edit(7))];
    await again[0];
    again.push(q.run('-100', true, call('7: b'), SEND_PRIORITY.reply, edit(7)));
    expect(await Promise.all(again)).toEqual(['7: a', '7: b']);
    q.close();
  });

  it('never moves an edit past a buttons-only change of the same message', async () => {
    const { q, sent, call, busy, v1 } = editWaitingInChatA();
    const drop = q.run('A', false, call('drop buttons'), SEND_PRIORITY.reply, { message: '5', replaces: false });
    const v2 = q.run('A', false, call('v2 with new buttons'), SEND_PRIORITY.reply, { message: '5', replaces: true });
    await Promise.all([busy, v1, drop, v2]);
    expect(sent).toEqual(['send', 'v1 with buttons', 'drop buttons', 'v2 with new buttons']);
    q.close();
  });

  it("a press's buttons-only change waits behind an edit of the same message still waiting, though it is feedback", async () => {
    const { q, sent, call, busy, v1 } = editWaitingInChatA();
    const drop = q.run('A', false, call('drop buttons'), SEND_PRIORITY.feedback, { message: '5', replaces: false });
    const other = q.run('A', false, call('press answer'), SEND_PRIORITY.feedback);
    await Promise.all([busy, v1, drop, other]);
    expect(sent).toEqual(['send', 'press answer', 'v1 with buttons', 'drop buttons']);
    q.close();
  });

  it("a person's edit of an alert message takes the waiting alert edit's place, at reply priority", async () => {
    const { logger } = recorder();
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 30, perChatBurst: 1 });
    const sent: string[] = [];
    const call = (name: string) => async () => {
      sent.push(name);
      return name;
    };
    const busy = q.run('-100', true, call('send'));
    const otherAlert = q.run('-100', true, call('alert 1 edit'), SEND_PRIORITY.alert, { message: '1', replaces: true });
    const staleAlert = q.run('-100', true, call('alert 2 edit'), SEND_PRIORITY.alert, { message: '2', replaces: true });
    await new Promise((r) => setTimeout(r, 5)); // both alerts are in the lane (the alert budget is free)
    const acked = q.run('-100', true, call('alert 2 acked'), SEND_PRIORITY.reply, { message: '2', replaces: true });
    expect(await Promise.all([busy, otherAlert, staleAlert, acked])).toEqual(['send', 'alert 1 edit', SUPERSEDED, 'alert 2 acked']);
    expect(sent).toEqual(['send', 'alert 2 acked', 'alert 1 edit']);
    q.close();
  });

  it("drops an alert edit still waiting for the alert budget when a person's edit of that message comes", async () => {
    const { logger } = recorder();
    // Alerts may take 1 call a minute: the second alert edit waits outside the lane for the budget.
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 1, perChatBurst: 10, perGroupPerMinute: 3, replyReservePerMinute: 2, feedbackReservePerMinute: 0 });
    const sent: string[] = [];
    const call = (name: string) => async () => {
      sent.push(name);
      return name;
    };
    await q.run('-100', true, call('alert 1'), SEND_PRIORITY.alert, { message: '1', replaces: true });
    const waiting = q.run('-100', true, call('alert 2 edit'), SEND_PRIORITY.alert, { message: '2', replaces: true });
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    expect(await q.run('-100', true, call('alert 2 acked'), SEND_PRIORITY.reply, { message: '2', replaces: true })).toBe('alert 2 acked');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await waiting).toBe(SUPERSEDED);
    expect(sent).toEqual(['alert 1', 'alert 2 acked']);
    q.close();
  });

  it('alert traffic never takes the whole group budget: a reply into a flooded group goes out at once', async () => {
    const { logger } = recorder();
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 1, perChatBurst: 100, perGroupPerMinute: 6, replyReservePerMinute: 2, feedbackReservePerMinute: 0 });
    const alerts = await floodGroup(q, 10, SEND_PRIORITY.alert);
    expect(alerts.sent()).toBe(4); // 6 per minute minus 2 kept for replies
    expect(await twoCallsMs(q)).toBeLessThan(10_000); // both found budget (and a free lane) long before the 61 s window turned
    expect(alerts.sent()).toBe(4);
    q.close();
  });

  it("answers a person's press at once though the bot's own calls just used the chat's burst; Telegram's per-chat bucket is never overdrawn", async () => {
    const { logger } = recorder();
    // A bucket of 3 calls, one back every 100 ms; the bot's own traffic leaves the last one for feedback.
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 100, perChatBurst: 3, perChatFeedbackBurst: 1 });
    const t0 = Date.now();
    const at: Record<string, number> = {};
    const call = (name: string) => async () => void (at[name] = Date.now() - t0);
    // A placeholder, its progress edit and its plan edit, back to back; then the person presses.
    const own = ['placeholder', 'progress', 'plan', 'next progress'].map((n) => q.run('-100', true, call(n), SEND_PRIORITY.reply));
    await new Promise((r) => setTimeout(r, 20));
    const press = q.run('-100', true, call('press'), SEND_PRIORITY.feedback, { message: '7', replaces: true });
    const second = q.run('-100', true, call('second press'), SEND_PRIORITY.feedback);
    await Promise.all([...own, press, second]);
    expect(at.placeholder!).toBeLessThan(50);
    expect(at.progress!).toBeLessThan(50); // a placeholder and its first edit go out together
    expect(at.press!).toBeLessThan(70); // not when the bucket refills, as the bot's 3rd call does
    expect(at.plan!).toBeGreaterThanOrEqual(at['second press']!); // feedback waits ahead of the bot's own calls
    // Played against Telegram's per-chat limit as a bucket (3 calls, one back per 100 ms): never empty.
    let tokens = 3;
    let last = 0;
    for (const t of Object.values(at).sort((a, b) => a - b)) {
      tokens = Math.min(3, tokens + (t - last) / 100);
      last = t;
      expect(tokens).toBeGreaterThanOrEqual(0.97); // 3 ms of timer slack
      tokens -= 1;
    }
    q.close();
  });

  it("keeps part of a group's minute for feedback: progress and alert edits cannot take it", async () => {
    const { logger } = recorder();
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 1, perChatBurst: 100, perGroupPerMinute: 6, replyReservePerMinute: 0, feedbackReservePerMinute: 2 });
    const progress = await floodGroup(q, 6, SEND_PRIORITY.reply);
    expect(progress.sent()).toBe(4); // 6 a minute, 2 kept for feedback
    expect(await twoCallsMs(q, SEND_PRIORITY.feedback)).toBeLessThan(1000); // both found budget long before the 61 s window turned
    // The group's own limit still holds for feedback: a third press waits for the window.
    let third = false;
    const late = q.run('-100', true, async () => void (third = true), SEND_PRIORITY.feedback);
    await new Promise((r) => setTimeout(r, 200));
    expect(third).toBe(false);
    expect(progress.sent()).toBe(4);
    q.close();
    void late;
  });

  it('feedback waits for the call in flight in its chat (one at a time, so edits land in order), not for the calls waiting', async () => {
    const { logger } = recorder();
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 50, perChatBurst: 1 });
    const events: string[] = [];
    const slow = q.run('A', false, async () => {
      events.push('slow start');
      await new Promise((r) => setTimeout(r, 150));
      events.push('slow end');
    });
    const waiting = q.run('A', false, async () => void events.push('waiting reply'), SEND_PRIORITY.reply);
    await new Promise((r) => setTimeout(r, 20));
    const press = q.run('A', false, async () => void events.push('press'), SEND_PRIORITY.feedback);
    await Promise.all([slow, waiting, press]);
    expect(events).toEqual(['slow start', 'slow end', 'press', 'waiting reply']);
    q.close();
  });

  it("a press's edit drops a waiting edit of the same message; a newer edit then takes the press's place, sent as feedback", async () => {
    const { logger } = recorder();
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 100, perChatBurst: 1, perChatFeedbackBurst: 1 });
    const sent: string[] = [];
    const call = (name: string) => async () => {
      sent.push(name);
      return name;
    };
    const edit = { message: '7', replaces: true };
    const busy = q.run('-100', true, call('send'));
    const stale = q.run('-100', true, call('7: plan'), SEND_PRIORITY.reply, edit);
    await new Promise((r) => setTimeout(r, 10));
    const t0 = Date.now();
    const press = q.run('-100', true, call('7: confirmed'), SEND_PRIORITY.feedback, edit);
    expect(await press).toBe('7: confirmed');
    expect(Date.now() - t0).toBeLessThan(150);
    expect(await stale).toBe(SUPERSEDED);
    // While the window is full, a press edit waits at the gate; the job's newer edit goes out in its place.
    const press2 = q.run('-100', true, call('7: confirmed again'), SEND_PRIORITY.feedback, edit);
    const step = q.run('-100', true, call('7: step 1/4'), SEND_PRIORITY.reply, edit);
    expect(await Promise.all([busy, press2, step])).toEqual(['send', SUPERSEDED, '7: step 1/4']);
    expect(sent).toEqual(['send', '7: confirmed', '7: step 1/4']);
    q.close();
  });

  it('caps calls per group per minute', async () => {
    const { logger } = recorder();
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 1, perGroupPerMinute: 3, feedbackReservePerMinute: 0 });
    let ran = 0;
    const all = Array.from({ length: 5 }, () => q.run('-100', true, async () => ran++));
    await new Promise((r) => setTimeout(r, 300));
    expect(ran).toBe(3); // the 4th waits for the minute window
    q.close();
    void all;
  });

  it('caps calls per second overall', async () => {
    const { logger } = recorder();
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 1, globalPerSecond: 4 });
    let ran = 0;
    void Promise.all(Array.from({ length: 8 }, (_, i) => q.run(`chat${i}`, false, async () => ran++)));
    await new Promise((r) => setTimeout(r, 200));
    expect(ran).toBe(4);
    await new Promise((r) => setTimeout(r, 1000));
    expect(ran).toBe(8);
    q.close();
  });

  it('turns 403 and "chat not found" into PermanentDeliveryError, logs once per chat, and keeps other chats going', async () => {
    const { logger, warnings } = recorder();
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 1 });
    const blocked = () => Promise.reject(apiError(403, 'Forbidden: bot was blocked by the user'));
    await expect(q.run('A', false, blocked)).rejects.toBeInstanceOf(PermanentDeliveryError);
    await expect(q.run('A', false, blocked)).rejects.toThrow(/blocked by the user/);
    await expect(q.run('B', false, () => Promise.reject(apiError(400, 'Bad Request: chat not found')))).rejects.toBeInstanceOf(PermanentDeliveryError);
    expect(await q.run('C', false, async () => 'ok')).toBe('ok');
    expect(await q.run('A', false, async () => 'back')).toBe('back');
    expect(warnings.map((w) => (w.obj as { chatId: string }).chatId)).toEqual(['A', 'B']);
    q.close();
  });

  it('passes other errors through unchanged (the notify queue retries them)', async () => {
    const { logger } = recorder();
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 1 });
    const err = apiError(400, 'Bad Request: message is too long');
    await expect(q.run('A', false, () => Promise.reject(err))).rejects.toBe(err);
    q.close();
  });

  it('classifies Bot API errors', () => {
    expect(isPermanentChatError(apiError(403, 'Forbidden: bot was kicked from the group chat'))).toBe(true);
    expect(isPermanentChatError(apiError(400, 'Bad Request: chat not found'))).toBe(true);
    expect(isPermanentChatError(apiError(400, 'Bad Request: message to edit not found'))).toBe(false);
    expect(isPermanentChatError(apiError(429, 'Too Many Requests: retry after 5'))).toBe(false);
    expect(isPermanentChatError(new Error('socket hang up'))).toBe(false);
  });
});
