/**
 * A second poller on the bot token mid-run (Telegram answers our getUpdates with 409) must not silence
 * Telegram for good: real grammY polls the Bot API stand-in, real discord.js talks to the Discord
 * stand-in, the whole app runs as the CLI wires it. While the conflict lasts /healthz is 503 and names
 * the adapter and since when; after the grace period the admins hear it on Discord; when the other
 * poller goes away polling resumes by itself, the command sent meanwhile is answered and Discord is told.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/app-harness.js';
import { startTelegramStandin, type TelegramStandin } from '../support/telegram/telegram-standin.js';
import { startDiscordStandin, type DiscordStandin, type MessageView } from '../support/discord/discord-standin.js';

const OPERATOR = 1001;
const GROUP = -3001;
const DISCORD_ADMIN = '310000000000000001';

let tg: TelegramStandin;
let dc: DiscordStandin;
let h: Harness;

beforeAll(async () => {
  tg = await startTelegramStandin();
  dc = await startDiscordStandin();
  h = await startHarness({
    app: { adapters: ['console', 'telegram', 'discord'], receiveWatch: { graceMs: 1500, checkMs: 200 } },
    secrets: { telegramToken: tg.token, discordToken: dc.token, discordApplicationId: dc.applicationId, discordGuildId: dc.guildId },
    extra: {
      telegram: { mode: 'polling', apiRoot: tg.apiRoot },
      discord: { restApi: dc.restApi, guildId: dc.guildId },
      people: [
        { platform: 'console', userId: 'local', role: 'admin' },
        { platform: 'telegram', userId: OPERATOR, role: 'operator', name: 'Ada' },
        { platform: 'discord', userId: DISCORD_ADMIN, role: 'admin' },
      ],
      chats: [
        { platform: 'telegram', chatId: GROUP, hosts: ['prod'] },
        { platform: 'discord', chatId: dc.channelId, hosts: ['prod'] },
      ],
    },
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
  await tg?.stop();
  await dc?.stop();
});

async function healthz(): Promise<{ status: number; body: { ok: boolean; checks: Record<string, { ok: boolean; detail?: string }> } }> {
  const port = (h.app.http!.address() as AddressInfo).port;
  const r = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: r.status, body: (await r.json()) as never };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const titleOf = (m: MessageView | undefined): string => String(m?.embeds[0]?.title ?? '');
const say = (text: string): Promise<number> => tg.userSends(GROUP, OPERATOR, text, { chatType: 'supergroup', firstName: 'Ada' });
const answerTo = (asked: number) => tg.messagesIn(GROUP).find((m) => m.message_id > asked && /prod: /.test(m.text ?? '') && !/^⏳/.test(m.text ?? ''));

describe('telegram 409 mid-run', () => {
  it('keeps polling with backoff, reports the adapter down (503, since when), tells the admins on Discord, recovers and answers what was sent meanwhile', async () => {
    await h.standin.setScenario('healthy');
    const first = await say('/status prod');
    await tg.waitFor(() => answerTo(first), 20_000, 'the answer before the conflict');
    expect((await healthz()).status).toBe(200);

    const conflictAt = Date.now();
    tg.conflict(true);
    let ended = false;
    try {
      const down = await until('/healthz 503', async () => {
        const r = await healthz();
        return r.status === 503 ? r : undefined;
      }, 10_000);
      expect(down.body.checks.adapters!.ok).toBe(false);
      const detail = down.body.checks.adapters!.detail ?? '';
      expect(detail).toMatch(/^telegram down since (\S+) \(another program polls this bot token \(409 Conflict\)\)$/);
      const since = Date.parse(/since (\S+)/.exec(detail)![1]!);
      expect(since).toBeGreaterThanOrEqual(conflictAt - 1000);
      expect(detail).not.toContain(tg.token);
      // Redis and the workers are fine: only the adapter is named.
      expect(down.body.checks.redis!.ok).toBe(true);

      // A command sent while Telegram will not give us updates.
      const meanwhile = await say('/status prod');
      // The admins hear it on the other platform after the grace period.
      const notice = await dc.waitFor(
        () => dc.messagesIn(dc.channelId).find((m) => /clawmedic cannot receive on Telegram/.test(titleOf(m))),
        15_000,
        'the admin notice on Discord',
      );
      const text = JSON.stringify(notice.embeds);
      expect(text).toContain('409');
      expect(text).not.toContain(tg.token);
      expect(answerTo(meanwhile)).toBeUndefined();
      // Polling went on (with backoff) during the conflict rather than stopping at the first 409.
      await tg.waitFor(() => tg.calls('getUpdates').filter((c) => c.status === 409 && c.at >= conflictAt).length >= 2, 10_000, 'polls retried during the conflict');

      tg.conflict(false);
      ended = true;
      // The other poller is gone: polling resumes by itself, the command sent meanwhile is answered.
      const answer = await tg.waitFor(() => answerTo(meanwhile), 45_000, 'the answer to the command sent during the conflict');
      expect(answer.text).toMatch(/prod: /);
      await until('/healthz 200 again', async () => (await healthz()).status === 200, 10_000);
      const back = await dc.waitFor(() => {
        const m = dc.message(notice.id);
        return m && /clawmedic receives on Telegram again/.test(titleOf(m)) ? m : undefined;
      }, 15_000, 'the recovery notice (the same Discord message, edited)');
      expect(back.id).toBe(notice.id);
      const audit = await h.app.audit.recent(undefined, 200);
      expect(audit.filter((r) => r.action === 'adapter_down')).toHaveLength(1);
      expect(audit.filter((r) => r.action === 'adapter_up')).toHaveLength(1);
    } finally {
      if (!ended) tg.conflict(false);
    }
  }, 120_000);
});
