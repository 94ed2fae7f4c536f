/**
 * The stand-in must behave like the Bot API where telegram-test-api 4.2.1 does not: these tests pin
 * each gap it closes, through grammY's real Api client and raw HTTP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Api, GrammyError, HttpError, InputFile } from 'grammy';
import { startTelegramStandin, type TelegramStandin } from '../support/telegram/telegram-standin.js';

let tg: TelegramStandin;
let api: Api;

beforeEach(async () => {
  tg = await startTelegramStandin();
  api = new Api(tg.token, { apiRoot: tg.apiRoot });
});
afterEach(async () => {
  await tg.stop();
});

const raw = async (method: string, body: unknown = {}): Promise<{ status: number; json: any }> => {
  const r = await fetch(`${tg.apiRoot}/bot${tg.token}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
};

describe('long polling', () => {
  it('holds getUpdates open until an update arrives, then answers at once', async () => {
    const t0 = Date.now();
    const poll = api.getUpdates({ timeout: 5 });
    await new Promise((r) => setTimeout(r, 300));
    await tg.userSends(10, 10, '/status');
    const updates = await poll;
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2000);
    expect(updates).toHaveLength(1);
    const msg = updates[0]!.message!;
    expect(msg.text).toBe('/status');
    expect(msg.entities?.[0]).toMatchObject({ type: 'bot_command', offset: 0, length: 7 });
    expect(msg.chat).toMatchObject({ id: 10, type: 'private' });
    expect(msg.from).toMatchObject({ id: 10, is_bot: false });
    expect(msg).not.toHaveProperty('botToken');
  });

  it('answers an empty list after the timeout when nothing arrives', async () => {
    const t0 = Date.now();
    expect(await api.getUpdates({ timeout: 1 })).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  });

  it('keeps updates until they are confirmed with offset', async () => {
    await tg.userSends(10, 10, 'one');
    await tg.userSends(10, 10, 'two');
    const first = await api.getUpdates({ timeout: 0 });
    expect(first.map((u) => u.message?.text)).toEqual(['one', 'two']);
    // Not confirmed yet: delivered again.
    expect(await api.getUpdates({ timeout: 0 })).toHaveLength(2);
    const next = first[1]!.update_id + 1;
    expect(await api.getUpdates({ offset: first[0]!.update_id + 1, timeout: 0 })).toHaveLength(1);
    expect(await api.getUpdates({ offset: next, timeout: 0 })).toEqual([]);
    expect(first[1]!.update_id).toBeGreaterThan(first[0]!.update_id);
  });

  it('answers the older of two concurrent pollers with 409', async () => {
    const older = api.getUpdates({ timeout: 5 });
    await new Promise((r) => setTimeout(r, 100));
    const newer = api.getUpdates({ timeout: 1 });
    const err = await older.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrammyError);
    expect((err as GrammyError).error_code).toBe(409);
    expect((err as GrammyError).description).toMatch(/terminated by other getUpdates request/);
    expect(await newer).toEqual([]);
  });

  it('refuses getUpdates while a webhook is set', async () => {
    await api.setWebhook('http://127.0.0.1:9/hook');
    expect((await api.getWebhookInfo()).url).toBe('http://127.0.0.1:9/hook');
    await expect(api.getUpdates({ timeout: 0 })).rejects.toMatchObject({ error_code: 409 });
    await api.deleteWebhook();
    expect(await api.getUpdates({ timeout: 0 })).toEqual([]);
  });
});

describe('messages', () => {
  it('numbers messages per chat, user and bot messages sharing the sequence', async () => {
    const userMsg = await tg.userSends(10, 10, '/start');
    tg.addChat(-20, 'group', 'Ops');
    const a = await api.sendMessage(10, 'hello');
    const b = await api.sendMessage(-20, 'hello group');
    const c = await api.sendMessage(-20, 'again');
    expect(userMsg).toBe(1);
    expect(a.message_id).toBe(2);
    expect([b.message_id, c.message_id]).toEqual([1, 2]);
    expect(b.chat).toMatchObject({ id: -20, type: 'group', title: 'Ops' });
    expect(tg.messagesIn(-20).map((m) => m.text)).toEqual(['hello group', 'again']);
  });

  it('refuses chats it does not know, like Telegram', async () => {
    await expect(api.sendMessage(999, 'hi')).rejects.toMatchObject({ error_code: 400, description: 'Bad Request: chat not found' });
  });

  it('parses HTML like Telegram: escaped text is shown literally, a raw <script> is refused', async () => {
    tg.addChat(10, 'private');
    const ok = await api.sendMessage(10, '<b>prod</b>: &lt;script&gt; &amp; co', { parse_mode: 'HTML' });
    expect(ok.text).toBe('prod: <script> & co');
    expect(ok.entities).toEqual([{ type: 'bold', offset: 0, length: 4 }]);
    const err = await api.sendMessage(10, '<b><script>x</script></b>', { parse_mode: 'HTML' }).catch((e: unknown) => e);
    expect((err as GrammyError).description).toMatch(/^Bad Request: can't parse entities: Unsupported start tag "script"/);
    await expect(api.sendMessage(10, '<b>open', { parse_mode: 'HTML' })).rejects.toMatchObject({ error_code: 400 });
  });

  it('enforces 4096 characters after entity parsing and 64-byte callback_data', async () => {
    tg.addChat(10, 'private');
    await expect(api.sendMessage(10, 'x'.repeat(4097))).rejects.toMatchObject({ description: 'Bad Request: message is too long' });
    // 4096 characters of text are fine even if the HTML source is longer.
    await api.sendMessage(10, `<b>${'&amp;'.repeat(4096)}</b>`, { parse_mode: 'HTML' });
    await expect(
      api.sendMessage(10, 'hi', { reply_markup: { inline_keyboard: [[{ text: 'X', callback_data: 'x'.repeat(65) }]] } }),
    ).rejects.toMatchObject({ description: 'Bad Request: BUTTON_DATA_INVALID' });
  });

  it('edits with Telegram semantics: not modified, not found, keyboard removed when omitted', async () => {
    tg.addChat(10, 'private');
    const kb = { inline_keyboard: [[{ text: 'Fix', callback_data: 'tok1' }]] };
    const m = await api.sendMessage(10, 'queued', { reply_markup: kb });
    await expect(api.editMessageText(10, m.message_id, 'queued', { reply_markup: kb })).rejects.toMatchObject({
      error_code: 400,
      description: expect.stringMatching(/^Bad Request: message is not modified/),
    });
    await expect(api.editMessageText(10, 999, 'x')).rejects.toMatchObject({ description: 'Bad Request: message to edit not found' });
    const edited = await api.editMessageText(10, m.message_id, 'running');
    expect(edited).toMatchObject({ message_id: m.message_id, text: 'running' });
    expect((edited as { edit_date?: number }).edit_date).toBeTypeOf('number');
    const seen = tg.messagesIn(10);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ text: 'running', edits: 1, buttons: [] });
    await api.editMessageReplyMarkup(10, m.message_id, { reply_markup: kb });
    expect(tg.messagesIn(10)[0]!.buttons).toEqual([{ text: 'Fix', data: 'tok1' }]);
    await api.deleteMessage(10, m.message_id);
    expect(tg.messagesIn(10)).toEqual([]);
    await expect(api.deleteMessage(10, m.message_id)).rejects.toMatchObject({ description: 'Bad Request: message to delete not found' });
  });

  it('stores documents sent as multipart and menus set with setMyCommands', async () => {
    tg.addChat(10, 'private');
    const doc = await api.sendDocument(10, new InputFile(Buffer.from('line 1\nline 2\n'), 'details.txt'), { caption: 'output' });
    expect(doc.document).toMatchObject({ file_name: 'details.txt', file_size: 14 });
    expect(tg.messagesIn(10)[0]).toMatchObject({ document: { file_name: 'details.txt', content: 'line 1\nline 2\n' }, caption: 'output' });

    await api.setMyCommands([{ command: 'status', description: 'Fleet summary' }]);
    expect(await api.getMyCommands()).toEqual([{ command: 'status', description: 'Fleet summary' }]);
    await expect(api.setMyCommands([{ command: 'Bad-Name', description: 'x' }])).rejects.toMatchObject({ description: 'Bad Request: BOT_COMMAND_INVALID' });
  });

  it('answers unknown methods with 404 and a wrong token with 401', async () => {
    expect((await raw('sendPaidMedia')).json).toEqual({ ok: false, error_code: 404, description: 'Not Found' });
    const r = await fetch(`${tg.apiRoot}/bot1:wrong/getMe`);
    expect(r.status).toBe(401);
  });
});

describe('callback queries', () => {
  it('carry the message they were pressed on, and can be answered exactly once', async () => {
    tg.addChat(-20, 'supergroup', 'Ops');
    const m = await api.sendMessage(-20, 'pick', { reply_markup: { inline_keyboard: [[{ text: 'Diagnose', callback_data: 'tokD' }]] } });
    await tg.userPresses(-20, 42, m.message_id, 'tokD');
    const [u] = await api.getUpdates({ timeout: 1 });
    const cq = u!.callback_query!;
    expect(cq.data).toBe('tokD');
    expect(cq.from.id).toBe(42);
    expect(cq.chat_instance).toBeTypeOf('string');
    expect(cq.message).toMatchObject({ message_id: m.message_id, chat: { id: -20, type: 'supergroup' }, text: 'pick' });
    expect(await api.answerCallbackQuery(cq.id, { text: 'Not allowed' })).toBe(true);
    await expect(api.answerCallbackQuery(cq.id)).rejects.toMatchObject({ error_code: 400, description: expect.stringMatching(/query is too old/) });
    expect(tg.calls('answerCallbackQuery')[0]!.params).toMatchObject({ callback_query_id: cq.id, text: 'Not allowed' });
  });

  it('only lets users press buttons that are on the message', async () => {
    tg.addChat(10, 'private');
    const m = await api.sendMessage(10, 'no buttons');
    await expect(tg.userPresses(10, 10, m.message_id, 'tokX')).rejects.toThrow(/no button/);
  });
});

describe('error injection and outages', () => {
  it('injects 429 with retry_after, then lets calls through', async () => {
    tg.addChat(10, 'private');
    tg.inject('sendMessage', '429', 1);
    await expect(api.sendMessage(10, 'x')).rejects.toMatchObject({ error_code: 429, parameters: { retry_after: 1 } });
    await api.sendMessage(10, 'y');
    expect(tg.calls('sendMessage').map((c) => c.status)).toEqual([429, 200]);
  });

  it('injects errors for one chat only, and 409 on getUpdates', async () => {
    tg.addChat(10, 'private');
    tg.addChat(11, 'private');
    tg.inject('sendMessage', '403', 5, { chatId: 10 });
    await expect(api.sendMessage(10, 'x')).rejects.toMatchObject({ error_code: 403, description: 'Forbidden: bot was blocked by the user' });
    await api.sendMessage(11, 'fine');
    tg.inject('getUpdates', '409');
    await expect(api.getUpdates({ timeout: 0 })).rejects.toMatchObject({ error_code: 409 });
  });

  it('reports blocked bots, migrated groups and outages like Telegram', async () => {
    tg.addChat(10, 'private');
    tg.blockBot(10);
    await expect(api.sendMessage(10, 'x')).rejects.toMatchObject({ error_code: 403 });

    tg.addChat(-30, 'group');
    tg.migrateGroup(-30, -1000030);
    const err = (await api.sendMessage(-30, 'x').catch((e: unknown) => e)) as GrammyError;
    expect(err.parameters.migrate_to_chat_id).toBe(-1000030);
    const updates = await api.getUpdates({ timeout: 0 });
    expect(updates.map((u) => u.message?.migrate_to_chat_id ?? u.message?.migrate_from_chat_id)).toEqual([-1000030, -30]);
    await api.sendMessage(-1000030, 'hello supergroup');

    tg.outage(true);
    await expect(api.getMe()).rejects.toBeInstanceOf(HttpError);
    tg.outage(false);
    expect((await api.getMe()).username).toBe(tg.botUsername);
  });
});
