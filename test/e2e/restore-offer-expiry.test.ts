/**
 * An unanswered "Restore config backup" offer (after a fix whose doctor --fix did not help) expires with
 * jobs.confirmTtlSec (issue 14.3): through the real grammY adapter and the Telegram stand-in, in a group of
 * its own so no other test's messages share its send budget.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/app-harness.js';
import { startTelegramStandin, type SeenMessage, type TelegramStandin } from '../support/telegram/telegram-standin.js';

const OPERATOR = 1001;
const GROUP = -2102;
const CONFIRM_TTL_SEC = 3;

let tg: TelegramStandin;
let h: Harness;

beforeAll(async () => {
  tg = await startTelegramStandin();
  h = await startHarness({
    // "staged" keeps openclaw.json in the stand-in's state dir, so a failed doctor --fix leaves a backup to offer.
    moreHosts: (_sshd, standin) => [{ name: 'staged', openclaw: { bin: 'openclaw', stateDir: standin.stateDir } }],
    app: { adapters: ['console', 'telegram'], verifyWindowSec: 1 },
    secrets: { telegramToken: tg.token },
    extra: {
      telegram: { mode: 'polling', apiRoot: tg.apiRoot },
      jobs: { confirmTtlSec: CONFIRM_TTL_SEC },
      fix: { maxAttemptsPerHour: 20, verifyWindowSec: 1, startWaitSec: 5 },
      people: [
        { platform: 'console', userId: 'local', role: 'admin' },
        { platform: 'telegram', userId: OPERATOR, role: 'operator', name: 'Ada' },
      ],
      chats: [{ platform: 'telegram', chatId: GROUP, hosts: ['staged'] }],
    },
  });
  await h.standin.setScenario('gateway_down');
}, 60_000);

afterAll(async () => {
  await h?.close();
  await tg?.stop();
});

const titleOf = (m: SeenMessage | undefined): string => m?.text?.split('\n')[0] ?? '';

describe('the restore offer expires (issue 14.3)', () => {
  it('unanswered: the fix report stays, its "Restore config backup" button goes, and it says nothing was restored', async () => {
    const S = h.standin.stateDir;
    await writeFile(path.join(S, 'wont_start'), '');
    await writeFile(path.join(S, 'openclaw.json.bak'), '{"gateway":{"mode":"local","port":18789,"from":"backup"}}\n');
    try {
      const asked = await tg.userSends(GROUP, OPERATOR, '/fix staged', { chatType: 'supergroup', firstName: 'Ada' });
      const plan = await tg.waitFor(() => tg.messagesIn(GROUP).find((m) => m.message_id > asked && m.buttons.some((b) => b.text === 'Confirm fix')), 30_000, 'the plan');
      await tg.userPresses(GROUP, OPERATOR, plan.message_id, plan.buttons.find((b) => b.text === 'Confirm fix')!.data);
      const offered = await tg.waitFor(
        () => {
          const m = tg.messagesIn(GROUP).find((x) => x.message_id === plan.message_id);
          return m?.buttons.some((b) => b.text === 'Restore config backup') ? m : undefined;
        },
        90_000,
        'the restore offer',
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}; the message reads: ${tg.messagesIn(GROUP).find((x) => x.message_id === plan.message_id)?.text ?? '(none)'}`);
      });
      const expired = await tg.waitFor(
        () => {
          const m = tg.messagesIn(GROUP).find((x) => x.message_id === plan.message_id);
          return m && m.buttons.length === 0 && /has expired; nothing was restored/.test(m.text ?? '') ? m : undefined;
        },
        CONFIRM_TTL_SEC * 1000 + 20_000,
        'the offer to expire',
      );
      expect(titleOf(expired)).toBe(titleOf(offered));
      expect(await readFile(path.join(S, 'openclaw.json'), 'utf8')).not.toContain('"from":"backup"');
    } finally {
      await rm(path.join(S, 'wont_start'), { force: true });
    }
  }, 150_000);
});
