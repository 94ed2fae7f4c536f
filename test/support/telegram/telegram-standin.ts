/**
 * A Telegram Bot API stand-in for tests: telegram-test-api (user side) behind BotApiLayer (bot side).
 * Point grammY at `apiRoot`, then act as users (userSends, userPresses) and read what the bot did.
 */
import { TelegramServer } from 'telegram-test-api/lib/telegramServer.js';
import { BotApiLayer, type ApiError, type ChatType, type RecordedCall, type StoredMessage } from './bot-api-layer.js';
import { freePort } from '../free-port.js';

export type { ApiError, ChatType, RecordedCall, StoredMessage } from './bot-api-layer.js';

/** Shorthands for the errors tests inject most; anything else can be given as a full ApiError. */
export type InjectedError = '429' | '403' | '409' | '400-chat-not-found' | '500' | ApiError;

/** A bot message as a user sees it: edits applied, buttons flattened for easy asserts. */
export interface SeenMessage extends StoredMessage {
  buttons: Array<{ text: string; data: string }>;
}

export interface StandinOptions {
  token?: string;
  botUsername?: string;
  /** retry_after used by the '429' shorthand, seconds. Default 1. */
  retryAfter?: number;
}

export interface TelegramStandin {
  apiRoot: string;
  token: string;
  botUsername: string;
  botId: number;
  layer: BotApiLayer;
  /** A user types `text` in a chat (commands get a bot_command entity). Returns the message id. */
  userSends(chatId: number, userId: number, text: string, opts?: { chatType?: ChatType; firstName?: string; chatTitle?: string }): Promise<number>;
  /** A user presses the inline button carrying `data` under bot message `messageId`. */
  userPresses(chatId: number, userId: number, messageId: number, data: string, opts?: { allowMissingButton?: boolean }): Promise<void>;
  /** Bot messages in a chat, oldest first, with edits applied (deleted ones left out). */
  messagesIn(chatId: number): SeenMessage[];
  /** Poll `predicate` every 20 ms until it returns something truthy; that value is returned. */
  waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs?: number, what?: string): Promise<T>;
  /** The next `times` calls of `method` (into `chatId`, if given) fail with `error`. */
  inject(method: string, error: InjectedError, times?: number, opts?: { chatId?: number }): void;
  /** Recorded calls of one method (or all calls when omitted). */
  calls(method?: string): RecordedCall[];
  /** Make a chat known to Telegram without a user message (a group the bot was added to). */
  addChat(chatId: number, type: ChatType, title?: string): void;
  /** From now on every call into the chat is refused: 403 blocked (private) / kicked (group). */
  blockBot(chatId: number): void;
  /** The group becomes a supergroup with `newId` (service updates to the bot; old id answers 400 + migrate_to_chat_id). */
  migrateGroup(oldId: number, newId: number): void;
  /** Telegram unreachable (connections reset) until called with false. */
  outage(on: boolean): void;
  /** Another poller on the token until called with false: getUpdates answers 409 (pending poll included). */
  conflict(on: boolean): void;
  stop(): Promise<void>;
}

// Built from parts so no token-shaped literal sits in the repository (a real token must never be committed).
const DEFAULT_TOKEN = ['123456789', 'AAstandin-test-token-not-a-real-one_xx'].join(':');

function toApiError(e: InjectedError, retryAfter: number): ApiError {
  switch (e) {
    case '429':
      return { error_code: 429, description: `Too Many Requests: retry after ${retryAfter}`, parameters: { retry_after: retryAfter } };
    case '403':
      return { error_code: 403, description: 'Forbidden: bot was blocked by the user' };
    case '409':
      return { error_code: 409, description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running' };
    case '400-chat-not-found':
      return { error_code: 400, description: 'Bad Request: chat not found' };
    case '500':
      return { error_code: 500, description: 'Internal Server Error' };
    default:
      return e;
  }
}

/** Start telegram-test-api and the layer on free loopback ports. */
export async function startTelegramStandin(opts: StandinOptions = {}): Promise<TelegramStandin> {
  const token = opts.token ?? DEFAULT_TOKEN;
  const botUsername = opts.botUsername ?? 'clawmedic_test_bot';
  const botId = Number(token.split(':')[0]) || 666;
  // telegram-test-api needs a fixed port in its config; port 0 would break its apiURL, so pick a free one.
  const ttaPort = await freePort();
  const tta = new TelegramServer({ port: ttaPort, host: '127.0.0.1', storeTimeout: 600 });
  await tta.start();
  const ttaUrl = tta.config.apiURL;

  const layer = new BotApiLayer(
    token,
    {
      async pull() {
        const r = await fetch(`${ttaUrl}/bot${token}/getUpdates`, { method: 'POST' });
        const body = (await r.json()) as { result?: Array<Record<string, unknown>> };
        return body.result ?? [];
      },
      nextUpdateId() {
        // telegram-test-api's counter is private; share it so service updates keep ids increasing.
        const t = tta as unknown as { updateId: number };
        return t.updateId++;
      },
    },
    { id: botId, username: botUsername, first_name: 'clawmedic test' },
  );
  const apiRoot = await layer.listen();
  const retryAfter = opts.retryAfter ?? 1;

  const client = (chatId: number, userId: number, type: ChatType, firstName?: string, chatTitle?: string) =>
    tta.getClient(token, {
      chatId,
      userId,
      type,
      firstName: firstName ?? `User${userId}`,
      userName: `user${userId}`,
      chatTitle: chatTitle ?? (type === 'private' ? firstName ?? `User${userId}` : `Group ${chatId}`),
    } as never);

  const standin: TelegramStandin = {
    apiRoot,
    token,
    botUsername,
    botId,
    layer,

    async userSends(chatId, userId, text, o = {}) {
      const type = o.chatType ?? (chatId === userId ? 'private' : 'group');
      const c = client(chatId, userId, type, o.firstName, o.chatTitle);
      if (text.startsWith('/')) await c.sendCommand(c.makeCommand(text));
      else await c.sendMessage(c.makeMessage(text));
      // A bot's long poll may have pulled it first; pulls are serialized, so after ours it is in the chat.
      await layer.pull();
      const mine = [...(layer.chats.get(chatId)?.messages.values() ?? [])].filter(
        (m) => m.from === 'user' && m.userId === userId && m.text === text,
      );
      const last = mine[mine.length - 1];
      if (!last) throw new Error('stand-in: the user message did not come through telegram-test-api');
      return last.message_id;
    },

    async userPresses(chatId, userId, messageId, data, o = {}) {
      const chat = layer.chats.get(chatId);
      const msg = chat?.messages.get(messageId);
      if (!chat || !msg || msg.deleted) throw new Error(`stand-in: no message ${messageId} in chat ${chatId} to press a button on`);
      const hasButton = msg.reply_markup?.inline_keyboard.some((row) => row.some((b) => b.callback_data === data));
      // A real client can only press buttons that are on the message right now.
      if (!hasButton && !o.allowMissingButton) throw new Error(`stand-in: message ${messageId} has no button with data "${data}"`);
      const c = client(chatId, userId, chat.type);
      // telegram-test-api shares one object for `from` and `message.from` (deep-extend would overwrite both): set them after.
      const from = { id: userId, is_bot: false, first_name: `User${userId}`, username: `user${userId}` };
      await c.sendCallback({ ...c.makeCallbackQuery(data), from, message: layer.messageObject(msg) as never });
      await layer.pull();
    },

    messagesIn(chatId) {
      const chat = layer.chats.get(chatId);
      if (!chat) return [];
      return [...chat.messages.values()]
        .filter((m) => m.from === 'bot' && !m.deleted)
        .sort((a, b) => a.message_id - b.message_id)
        .map((m) => ({
          ...m,
          buttons: (m.reply_markup?.inline_keyboard ?? []).flat().map((b) => ({ text: b.text, data: b.callback_data ?? '' })),
        }));
    },

    async waitFor(predicate, timeoutMs = 5000, what = 'condition') {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = predicate();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`stand-in: timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },

    inject(method, error, times = 1, o = {}) {
      layer.inject(method, toApiError(error, retryAfter), times, o.chatId);
    },

    calls(method) {
      return method ? layer.calls.filter((c) => c.method === method) : [...layer.calls];
    },

    addChat(chatId, type, title) {
      layer.chat(chatId, type, title);
    },

    blockBot(chatId) {
      const chat = layer.chats.get(chatId) ?? layer.chat(chatId, 'private');
      chat.refusal =
        chat.type === 'private'
          ? { error_code: 403, description: 'Forbidden: bot was blocked by the user' }
          : { error_code: 403, description: 'Forbidden: bot was kicked from the group chat' };
    },

    migrateGroup(oldId, newId) {
      layer.migrate(oldId, newId);
    },

    outage(on) {
      layer.setOffline(on);
    },

    conflict(on) {
      layer.setConflict(on);
    },

    async stop() {
      await layer.close();
      await tta.stop();
    },
  };
  return standin;
}

