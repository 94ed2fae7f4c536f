import { describe, expect, it } from 'vitest';
import { PermanentDeliveryError } from '../../../../src/domain/errors.js';
import { SEND_PRIORITY, TelegramSendQueue, isPermanentChatError } from '../../../../src/chat/telegram/send-queue.js';

function recorder() {
  const warnings: Array<{ obj: object; msg?: string }> = [];
  return { warnings, logger: { warn: (obj: object, msg?: string) => warnings.push({ obj, msg }) } };
}
const apiError = (error_code: number, description: string) => Object.assign(new Error(description), { error_code, description });

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
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 100, perChatBurst: 3 });
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

  it('alert traffic never takes the whole group budget: a reply into a flooded group goes out at once', async () => {
    const { logger } = recorder();
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 1, perChatBurst: 100, perGroupPerMinute: 6, replyReservePerMinute: 2 });
    let alertsSent = 0;
    const alerts = Array.from({ length: 10 }, () => q.run('-100', true, async () => void alertsSent++, SEND_PRIORITY.alert));
    await new Promise((r) => setTimeout(r, 200));
    expect(alertsSent).toBe(4); // 6 per minute minus 2 kept for replies
    const t0 = Date.now();
    await q.run('-100', true, async () => undefined);
    await q.run('-100', true, async () => undefined);
    expect(Date.now() - t0).toBeLessThan(10_000); // both found budget (and a free lane) long before the 61 s window turned
    expect(alertsSent).toBe(4);
    q.close();
    void alerts;
  });

  it('caps calls per group per minute', async () => {
    const { logger } = recorder();
    const q = new TelegramSendQueue(logger, { perChatIntervalMs: 1, perGroupPerMinute: 3 });
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
