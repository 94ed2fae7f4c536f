/**
 * A /fix confirmation nobody answers loses its buttons when it expires (issue 14.3): through the real grammY
 * adapter and the Telegram stand-in, with a 3 s confirmation window. One that was answered (Cancel) is
 * never overwritten by the expiry notice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/app-harness.js';
import { startTelegramStandin, type SeenMessage, type TelegramStandin } from '../support/telegram/telegram-standin.js';

const OPERATOR = 1001;
const GROUP = -2101;
const CONFIRM_TTL_SEC = 3;
/** Result buttons (Fix / Diagnose again under a diagnosis) live 24 h in production; 4 s here. */
const BUTTON_TTL_SEC = 4;

let tg: TelegramStandin;
let h: Harness;

beforeAll(async () => {
  tg = await startTelegramStandin();
  h = await startHarness({
    app: { adapters: ['console', 'telegram'], buttonTtlSec: BUTTON_TTL_SEC },
    secrets: { telegramToken: tg.token },
    extra: {
      telegram: { mode: 'polling', apiRoot: tg.apiRoot },
      jobs: { confirmTtlSec: CONFIRM_TTL_SEC },
      people: [
        { platform: 'console', userId: 'local', role: 'admin' },
        { platform: 'telegram', userId: OPERATOR, role: 'operator', name: 'Ada' },
      ],
      chats: [{ platform: 'telegram', chatId: GROUP, hosts: ['prod'] }],
    },
  });
  await h.standin.setScenario('gateway_down');
}, 60_000);

afterAll(async () => {
  await h?.close();
  await tg?.stop();
});

const titleOf = (m: SeenMessage | undefined): string => m?.text?.split('\n')[0] ?? '';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function askForPlan(): Promise<SeenMessage> {
  const asked = await tg.userSends(GROUP, OPERATOR, '/fix prod', { chatType: 'supergroup', firstName: 'Ada' });
  const plan = await tg.waitFor(
    () => tg.messagesIn(GROUP).find((m) => m.message_id > asked && m.buttons.length > 0),
    30_000,
    'the fix plan',
  );
  expect(plan.buttons.map((b) => b.text)).toEqual(['Confirm fix', 'Cancel']);
  return plan;
}

describe('fix confirmation expiry', () => {
  it('unanswered: the plan turns into "not confirmed; nothing was changed" without buttons, and the old Confirm does nothing', async () => {
    const plan = await askForPlan();
    const confirm = plan.buttons.find((b) => b.text === 'Confirm fix')!.data;
    const expired = await tg.waitFor(
      () => {
        const m = tg.messagesIn(GROUP).find((x) => x.message_id === plan.message_id);
        return m && /not confirmed within/.test(titleOf(m)) ? m : undefined;
      },
      CONFIRM_TTL_SEC * 1000 + 15_000,
      'the plan to expire',
    );
    expect(titleOf(expired)).toMatch(/prod: fix not confirmed within 3 s; nothing was changed\.$/);
    expect(expired.text).toContain('Send /fix prod for a fresh plan.');
    expect(expired.buttons).toEqual([]);

    // A press on the stale button (a client that did not redraw) is refused with a toast; nothing runs.
    const answered = tg.calls('answerCallbackQuery').length;
    await tg.userPresses(GROUP, OPERATOR, plan.message_id, confirm, { allowMissingButton: true });
    const toast = await tg.waitFor(() => tg.calls('answerCallbackQuery')[answered], 10_000, 'the toast');
    expect(String(toast.params.text)).toMatch(/expired or was already used/);
    const calls = (await h.standin.calls()).map((a) => a.join(' '));
    expect(calls.some((c) => /doctor --fix|systemctl --user (start|stop)/.test(c))).toBe(false);
  }, 60_000);

  it('answered with Cancel: the cancel stays; the expiry notice never replaces it', async () => {
    const plan = await askForPlan();
    await tg.userPresses(GROUP, OPERATOR, plan.message_id, plan.buttons.find((b) => b.text === 'Cancel')!.data);
    await tg.waitFor(
      () => /fix cancelled/.test(titleOf(tg.messagesIn(GROUP).find((x) => x.message_id === plan.message_id))),
      10_000,
      'the cancel',
    );
    // Past the confirmation window and the delayed notice's due time, with room for the notify worker.
    await sleep(CONFIRM_TTL_SEC * 1000 + 4000);
    const after = tg.messagesIn(GROUP).find((x) => x.message_id === plan.message_id)!;
    expect(titleOf(after)).toMatch(/prod: fix cancelled; nothing was changed\.$/);
    expect(after.buttons).toEqual([]);
  }, 60_000);
});

describe('diagnosis buttons expire too (issue 14.3)', () => {
  it('unpressed: the diagnosis stays, its Fix / Diagnose again buttons are taken off when they expire', async () => {
    const asked = await tg.userSends(GROUP, OPERATOR, '/diagnose prod', { chatType: 'supergroup', firstName: 'Ada' });
    const verdict = await tg.waitFor(
      () => tg.messagesIn(GROUP).find((m) => m.message_id > asked && m.buttons.length > 0),
      30_000,
      'the diagnosis with buttons',
    );
    expect(verdict.buttons.map((b) => b.text)).toEqual(['Fix', 'Diagnose again']);
    const shown = titleOf(verdict);
    const bare = await tg.waitFor(
      () => {
        const m = tg.messagesIn(GROUP).find((x) => x.message_id === verdict.message_id);
        return m && m.buttons.length === 0 ? m : undefined;
      },
      BUTTON_TTL_SEC * 1000 + 15_000,
      'the buttons to be removed',
    );
    expect(titleOf(bare)).toBe(shown);
  }, 60_000);
});
