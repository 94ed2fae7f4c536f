/**
 * The thin HTTP layer in front of telegram-test-api 4.2.1: real long polling (offset/timeout, 409 on a
 * second poller), per-chat message ids, Telegram's edit/delete/callback semantics and errors, setMyCommands,
 * sendDocument, webhook delivery with the secret header, and error injection. telegram-test-api keeps the
 * user side: it builds user messages, commands and callback queries, numbers updates and queues them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HtmlParseError, parseTelegramHtml, type ParsedEntity } from './telegram-html.js';

/** A Bot API error as Telegram sends it (HTTP status = error_code). */
export interface ApiError {
  error_code: number;
  description: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

/** Chat types the stand-in knows. */
export type ChatType = 'private' | 'group' | 'supergroup';

/** An inline keyboard button as stored. */
export interface StoredButton {
  text: string;
  callback_data?: string;
}

/** One message in a chat, with every edit applied. */
export interface StoredMessage {
  message_id: number;
  chatId: number;
  from: 'bot' | 'user';
  date: number;
  /** Plain text after entity parsing (what a Telegram client shows). */
  text?: string;
  /** The text exactly as the bot sent it (HTML source when parse_mode is HTML). */
  raw?: string;
  parse_mode?: string;
  entities?: ParsedEntity[];
  reply_markup?: { inline_keyboard: StoredButton[][] };
  document?: { file_name: string; content: string; mime_type?: string };
  /** A photo (sendPhoto): the uploaded bytes and the size read from its PNG header. */
  photo?: { file_name: string; bytes: Buffer; width: number; height: number };
  /** The message this one answers (reply_parameters.message_id). */
  reply_to_message_id?: number;
  caption?: string;
  edits: number;
  edit_date?: number;
  userId?: number;
  deleted?: boolean;
}

/** One recorded Bot API call. */
export interface RecordedCall {
  method: string;
  params: Record<string, unknown>;
  at: number;
  /** 200 or the error_code answered. */
  status: number;
}

interface ChatState {
  id: number;
  type: ChatType;
  title?: string;
  nextMessageId: number;
  messages: Map<number, StoredMessage>;
  /** Persistent refusal (bot blocked / kicked / chat deleted). */
  refusal?: ApiError;
  migratedTo?: number;
}

interface Injection {
  error: ApiError;
  remaining: number;
  chatId?: number;
}

interface PendingPoll {
  res: ServerResponse;
  finish: (body: unknown, status?: number) => void;
}

/** What the layer needs from its owner: fetch new user updates from telegram-test-api. */
export interface UpdateSource {
  pull(): Promise<Array<Record<string, unknown>>>;
  /** A fresh update id from telegram-test-api's counter (for service updates the layer makes itself). */
  nextUpdateId(): number;
}

const OK = <T>(result: T): { ok: true; result: T } => ({ ok: true, result });
const NOT_FOUND: ApiError = { error_code: 404, description: 'Not Found' };
const bad = (description: string): ApiError => ({ error_code: 400, description: `Bad Request: ${description}` });
const JSON_PARAMS = new Set(['reply_markup', 'commands', 'entities', 'caption_entities', 'allowed_updates', 'scope', 'link_preview_options', 'reply_parameters']);
const now = (): number => Math.floor(Date.now() / 1000);

/** Thrown inside handlers to answer with a Bot API error. */
class Reject extends Error {
  constructor(readonly apiError: ApiError) {
    super(apiError.description);
  }
}

/** What Telegram answers the older of two concurrent pollers. */
const CONFLICT: ApiError = { error_code: 409, description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running' };

/** The HTTP server bots talk to (apiRoot). */
export class BotApiLayer {
  readonly chats = new Map<number, ChatState>();
  readonly calls: RecordedCall[] = [];
  commands: Array<{ command: string; description: string }> = [];
  /** Menus set per scope (setMyCommands with a scope), keyed by the scope as JSON; the default scope is `commands`. */
  scopedCommands = new Map<string, Array<{ command: string; description: string }>>();
  private readonly buffer: Array<Record<string, unknown>> = [];
  private readonly waiters = new Set<() => void>();
  private readonly injections = new Map<string, Injection[]>();
  private readonly openCallbacks = new Set<string>();
  private readonly sockets = new Set<Socket>();
  private pendingPoll: PendingPoll | undefined;
  private webhook: { url: string; secret?: string } | undefined;
  private pumping = false;
  private pulling: Promise<unknown> = Promise.resolve();
  private offline = false;
  private conflicting = false;
  private server: Server | undefined;

  constructor(
    private readonly token: string,
    private readonly source: UpdateSource,
    readonly bot: { id: number; username: string; first_name: string },
  ) {}

  /** Listen on a free loopback port; returns the apiRoot for grammY. */
  async listen(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server.on('connection', (socket) => {
      if (this.offline) {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.pendingPoll?.finish(OK([]));
    for (const wake of this.waiters) wake();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Simulate a Telegram outage: connections are reset until set back to false. */
  setOffline(offline: boolean): void {
    this.offline = offline;
    if (offline) {
      this.pendingPoll?.res.destroy();
      for (const s of this.sockets) s.destroy();
    }
  }

  /**
   * Simulate a second poller on the token while `on`: the pending poll and every getUpdates answer 409
   * (updates stay queued for whoever polls next, as with a poller that does not confirm them).
   */
  setConflict(on: boolean): void {
    this.conflicting = on;
    if (on) this.pendingPoll?.finish({ ok: false, ...CONFLICT }, 409);
  }

  /** Make the next `times` calls of `method` (optionally only into `chatId`) fail with `error`. */
  inject(method: string, error: ApiError, times: number, chatId?: number): void {
    const list = this.injections.get(method) ?? [];
    list.push({ error, remaining: times, ...(chatId !== undefined ? { chatId } : {}) });
    this.injections.set(method, list);
  }

  chat(id: number, type: ChatType, title?: string): ChatState {
    let chat = this.chats.get(id);
    if (!chat) {
      chat = { id, type, nextMessageId: 1, messages: new Map(), ...(title ? { title } : {}) };
      this.chats.set(id, chat);
    }
    return chat;
  }

  /** Fetch new updates from telegram-test-api, give them Telegram's shape, queue them and wake pollers. */
  async pull(): Promise<Array<Record<string, unknown>>> {
    // One pull at a time, so updates are shaped and queued in telegram-test-api's order.
    const run = this.pulling.then(async () => {
      const fresh = await this.source.pull();
      const shaped = fresh.map((u) => this.shape(u));
      this.enqueue(shaped);
      return shaped;
    });
    this.pulling = run.catch(() => []);
    return run;
  }

  /** Queue updates the layer made itself (service messages). */
  enqueue(updates: Array<Record<string, unknown>>): void {
    if (updates.length === 0) return;
    this.buffer.push(...updates);
    for (const wake of [...this.waiters]) wake();
    if (this.webhook) void this.pump();
  }

  /** A group became a supergroup: Telegram's two service messages, and the old id refuses from now on. */
  migrate(oldId: number, newId: number): void {
    const old = this.chats.get(oldId) ?? this.chat(oldId, 'group');
    old.migratedTo = newId;
    const sup = this.chat(newId, 'supergroup', old.title);
    const mk = (chat: ChatState, extra: Record<string, unknown>): Record<string, unknown> => ({
      update_id: this.source.nextUpdateId(),
      message: { message_id: chat.nextMessageId++, date: now(), chat: this.chatObject(chat), ...extra },
    });
    this.enqueue([mk(old, { migrate_to_chat_id: newId }), mk(sup, { migrate_from_chat_id: oldId })]);
  }

  private shape(update: Record<string, unknown>): Record<string, unknown> {
    const message = update.message as Record<string, any> | undefined;
    if (message) {
      const chatIn = message.chat as { id: number; type: ChatType; title?: string };
      const chat = this.chat(Number(chatIn.id), chatIn.type, chatIn.title);
      const id = chat.nextMessageId++;
      const { botToken: _drop, ...rest } = message;
      const shaped = { ...rest, message_id: id, chat: this.chatObject(chat) };
      chat.messages.set(id, {
        message_id: id, chatId: chat.id, from: 'user', date: Number(message.date), text: String(message.text ?? ''),
        edits: 0, userId: Number(message.from?.id),
      });
      return { update_id: update.update_id, message: shaped };
    }
    const cq = update.callback_query as Record<string, any> | undefined;
    if (cq) {
      this.openCallbacks.add(String(cq.id));
      const chatId = Number(cq.message?.chat?.id);
      return { update_id: update.update_id, callback_query: { ...cq, chat_instance: String(Math.abs(chatId) * 7 + 13) } };
    }
    return update;
  }

  chatObject(chat: ChatState): Record<string, unknown> {
    return chat.type === 'private'
      ? { id: chat.id, type: 'private', first_name: chat.title ?? 'User' }
      : { id: chat.id, type: chat.type, title: chat.title ?? `Group ${chat.id}` };
  }

  /** Telegram's Message object for a stored bot message. */
  messageObject(m: StoredMessage): Record<string, unknown> {
    const chat = this.chats.get(m.chatId)!;
    const out: Record<string, unknown> = {
      message_id: m.message_id,
      from: { id: this.bot.id, is_bot: true, first_name: this.bot.first_name, username: this.bot.username },
      chat: this.chatObject(chat),
      date: m.date,
    };
    if (m.text !== undefined) out.text = m.text;
    if (m.entities?.length) out.entities = m.entities;
    if (m.reply_markup) out.reply_markup = m.reply_markup;
    if (m.edit_date) out.edit_date = m.edit_date;
    if (m.photo) {
      out.photo = [{ file_id: `photo-${m.chatId}-${m.message_id}`, file_unique_id: `p${m.message_id}`, width: m.photo.width, height: m.photo.height, file_size: m.photo.bytes.length }];
      if (m.caption) out.caption = m.caption;
    }
    if (m.document) {
      out.document = { file_id: `doc-${m.chatId}-${m.message_id}`, file_unique_id: `u${m.message_id}`, file_name: m.document.file_name, file_size: Buffer.byteLength(m.document.content) };
      if (m.caption) out.caption = m.caption;
    }
    return out;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (body: unknown, status = 200): void => {
      if (res.writableEnded || res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const fail = (e: ApiError, method: string, params: Record<string, unknown>): void => {
      this.record(method, params, e.error_code);
      send({ ok: false, ...e }, e.error_code);
    };
    const m = /^\/bot([^/]+)\/([A-Za-z]+)(?:\?.*)?$/.exec(req.url ?? '');
    if (!m) return send({ ok: false, ...NOT_FOUND }, 404);
    const [, token, method] = m as unknown as [string, string, string];
    let params: Record<string, unknown>;
    try {
      params = await readParams(req);
    } catch {
      return fail(bad('invalid request body'), method, {});
    }
    if (token !== this.token) return fail({ error_code: 401, description: 'Unauthorized' }, method, params);
    const injected = this.takeInjection(method, params);
    if (injected) return fail(injected, method, params);
    try {
      if (method === 'getUpdates') {
        if (this.conflicting) return fail(CONFLICT, method, params);
        this.record(method, params, 200);
        return await this.getUpdates(params, req, res, send);
      }
      const result = await this.dispatch(method, params);
      this.record(method, params, 200);
      send(OK(result));
    } catch (err) {
      if (err instanceof Reject) return fail(err.apiError, method, params);
      if (err instanceof HtmlParseError) return fail(bad(err.message), method, params);
      fail({ error_code: 500, description: `Internal Server Error: ${String(err)}` }, method, params);
    }
  }

  private record(method: string, params: Record<string, unknown>, status: number): void {
    const { document: doc, ...rest } = params;
    this.calls.push({ method, params: doc === undefined ? rest : { ...rest, document: '[file]' }, at: Date.now(), status });
  }

  private takeInjection(method: string, params: Record<string, unknown>): ApiError | undefined {
    const list = this.injections.get(method);
    if (!list) return undefined;
    const chatId = params.chat_id === undefined ? undefined : Number(params.chat_id);
    const hit = list.find((i) => i.remaining > 0 && (i.chatId === undefined || i.chatId === chatId));
    if (!hit) return undefined;
    hit.remaining -= 1;
    return hit.error;
  }

  /** Long polling: answer at once when updates ≥ offset are queued, else wait up to `timeout` seconds. */
  private async getUpdates(
    params: Record<string, unknown>,
    req: IncomingMessage,
    res: ServerResponse,
    send: (body: unknown, status?: number) => void,
  ): Promise<void> {
    if (this.webhook) {
      return send({ ok: false, ...{ error_code: 409, description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first" } }, 409);
    }
    // Telegram answers the older of two concurrent pollers with 409.
    this.pendingPoll?.finish(
      { ok: false, error_code: 409, description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running' },
      409,
    );
    const offset = params.offset === undefined ? undefined : Number(params.offset);
    const limit = Math.min(100, Math.max(1, Number(params.limit ?? 100)));
    const timeoutMs = Math.max(0, Number(params.timeout ?? 0)) * 1000;
    if (offset !== undefined) this.confirm(offset);
    await this.pull().catch(() => undefined);
    const ready = (): Array<Record<string, unknown>> => this.buffer.slice(0, limit);
    if (ready().length > 0 || timeoutMs === 0) return send(OK(ready()));

    await new Promise<void>((resolve) => {
      let done = false;
      const finish = (body: unknown, status = 200): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.waiters.delete(wake);
        if (this.pendingPoll?.res === res) this.pendingPoll = undefined;
        send(body, status);
        resolve();
      };
      const wake = (): void => finish(OK(ready()));
      const timer = setTimeout(wake, timeoutMs);
      this.waiters.add(wake);
      this.pendingPoll = { res, finish };
      // A poller that hangs up (bot.stop() aborts its request) is no longer a poller.
      req.on('close', () => {
        if (!res.writableEnded) finish(OK([]));
      });
    });
  }

  /** Drop confirmed updates (update_id < offset; a negative offset keeps only the last -offset). */
  private confirm(offset: number): void {
    if (offset < 0) {
      this.buffer.splice(0, Math.max(0, this.buffer.length + offset));
      return;
    }
    while (this.buffer.length > 0 && Number(this.buffer[0]!.update_id) < offset) this.buffer.shift();
  }

  /** Webhook delivery: POST queued updates in order with the secret header; retry until answered 2xx. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.webhook && this.buffer.length > 0) {
        const update = this.buffer[0]!;
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (this.webhook.secret) headers['x-telegram-bot-api-secret-token'] = this.webhook.secret;
        const ok = await fetch(this.webhook.url, { method: 'POST', headers, body: JSON.stringify(update) })
          .then((r) => r.ok)
          .catch(() => false);
        if (ok) this.buffer.shift();
        else await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      this.pumping = false;
    }
  }

  private target(params: Record<string, unknown>): ChatState {
    const id = Number(params.chat_id);
    const chat = this.chats.get(id);
    if (!chat) throw new Reject(bad('chat not found'));
    if (chat.migratedTo !== undefined) {
      throw new Reject({ error_code: 400, description: 'Bad Request: group chat was upgraded to a supergroup chat', parameters: { migrate_to_chat_id: chat.migratedTo } });
    }
    if (chat.refusal) throw new Reject(chat.refusal);
    return chat;
  }

  private findMessage(chat: ChatState, params: Record<string, unknown>, what: 'edit' | 'delete'): StoredMessage {
    const msg = chat.messages.get(Number(params.message_id));
    if (!msg || msg.deleted) throw new Reject(bad(`message to ${what} not found`));
    if (what === 'edit' && msg.from !== 'bot') throw new Reject(bad("message can't be edited"));
    return msg;
  }

  private parseText(raw: string, parseMode: unknown, field: 'text' | 'caption'): { text: string; entities: ParsedEntity[] } {
    const parsed = parseMode === 'HTML' ? parseTelegramHtml(raw) : { text: raw, entities: [] };
    if (field === 'text' && parsed.text.trim() === '') throw new Reject(bad('message text is empty'));
    const max = field === 'text' ? 4096 : 1024;
    if (parsed.text.length > max) throw new Reject(bad(field === 'text' ? 'message is too long' : 'message caption is too long'));
    return parsed;
  }

  private keyboard(markup: unknown): StoredMessage['reply_markup'] {
    if (markup === undefined || markup === null) return undefined;
    const rows = (markup as { inline_keyboard?: unknown }).inline_keyboard;
    if (!Array.isArray(rows)) return undefined;
    for (const row of rows) {
      for (const b of row as StoredButton[]) {
        if (!b.text) throw new Reject(bad('text buttons are unallowed in the inline keyboard'));
        if (b.callback_data !== undefined && (Buffer.byteLength(b.callback_data) > 64 || b.callback_data === '')) {
          throw new Reject(bad('BUTTON_DATA_INVALID'));
        }
      }
    }
    return { inline_keyboard: rows as StoredButton[][] };
  }

  private async dispatch(method: string, p: Record<string, unknown>): Promise<unknown> {
    switch (method) {
      case 'getMe':
        return { ...this.bot, is_bot: true, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false };
      case 'setWebhook': {
        this.webhook = { url: String(p.url), ...(p.secret_token ? { secret: String(p.secret_token) } : {}) };
        this.pendingPoll?.finish({ ok: false, error_code: 409, description: 'Conflict: terminated by setWebhook request' }, 409);
        void this.pump();
        return true;
      }
      case 'deleteWebhook':
        this.webhook = undefined;
        if (p.drop_pending_updates === true || p.drop_pending_updates === 'true') this.buffer.length = 0;
        return true;
      case 'getWebhookInfo':
        return { url: this.webhook?.url ?? '', has_custom_certificate: false, pending_update_count: this.buffer.length };
      case 'setMyCommands': {
        const commands = p.commands as Array<{ command: string; description: string }>;
        if (!Array.isArray(commands) || commands.length > 100) throw new Reject(bad('BOT_COMMANDS_TOO_MUCH'));
        for (const c of commands) {
          if (!/^[a-z0-9_]{1,32}$/.test(c.command)) throw new Reject(bad('BOT_COMMAND_INVALID'));
          if (!c.description || c.description.length > 256) throw new Reject(bad('BOT_COMMAND_DESCRIPTION_INVALID'));
        }
        const list = commands.map((c) => ({ command: c.command, description: c.description }));
        const scope = p.scope as { type: string } | undefined;
        if (!scope || scope.type === 'default') this.commands = list;
        else {
          if (!['chat', 'chat_member', 'chat_administrators', 'all_private_chats', 'all_group_chats', 'all_chat_administrators'].includes(scope.type)) throw new Reject(bad('BOT_COMMAND_SCOPE_INVALID'));
          this.scopedCommands.set(JSON.stringify(scope), list);
        }
        return true;
      }
      case 'getMyCommands':
        return this.commands;
      case 'sendMessage': {
        const chat = this.target(p);
        const raw = String(p.text ?? '');
        const parsed = this.parseText(raw, p.parse_mode, 'text');
        const markup = this.keyboard(p.reply_markup);
        const msg: StoredMessage = {
          message_id: chat.nextMessageId++, chatId: chat.id, from: 'bot', date: now(), text: parsed.text, raw,
          entities: parsed.entities, edits: 0,
          ...(typeof p.parse_mode === 'string' ? { parse_mode: p.parse_mode } : {}),
          ...(markup ? { reply_markup: markup } : {}),
        };
        chat.messages.set(msg.message_id, msg);
        return this.messageObject(msg);
      }
      case 'sendDocument': {
        const chat = this.target(p);
        const doc = p.document;
        if (!(doc instanceof File)) throw new Reject(bad('wrong file identifier/HTTP URL specified'));
        const caption = p.caption === undefined ? undefined : this.parseText(String(p.caption), p.parse_mode, 'caption');
        const markup = this.keyboard(p.reply_markup);
        const msg: StoredMessage = {
          message_id: chat.nextMessageId++, chatId: chat.id, from: 'bot', date: now(), edits: 0,
          document: { file_name: doc.name || 'document', content: await doc.text(), ...(doc.type ? { mime_type: doc.type } : {}) },
          ...(caption ? { caption: caption.text, entities: caption.entities } : {}),
          ...(markup ? { reply_markup: markup } : {}),
        };
        chat.messages.set(msg.message_id, msg);
        return this.messageObject(msg);
      }
      case 'sendPhoto': {
        const chat = this.target(p);
        const photo = p.photo;
        if (!(photo instanceof File)) throw new Reject(bad('wrong file identifier/HTTP URL specified'));
        const bytes = Buffer.from(await photo.arrayBuffer());
        // Telegram's photo rules: at most 10 MB, width + height at most 10000, ratio at most 20.
        const png = bytes.length >= 24 && bytes.subarray(1, 4).toString('latin1') === 'PNG' ? { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) } : undefined;
        if (!png) throw new Reject(bad('IMAGE_PROCESS_FAILED'));
        if (bytes.length > 10 * 1024 * 1024) throw new Reject(bad('PHOTO_SAVE_FILE_INVALID'));
        if (png.width + png.height > 10000 || Math.max(png.width, png.height) / Math.min(png.width, png.height) > 20) throw new Reject(bad('PHOTO_INVALID_DIMENSIONS'));
        const caption = p.caption === undefined ? undefined : this.parseText(String(p.caption), p.parse_mode, 'caption');
        const replyTo = (p.reply_parameters as { message_id?: number; allow_sending_without_reply?: boolean } | undefined);
        if (replyTo?.message_id !== undefined && !chat.messages.has(replyTo.message_id) && !replyTo.allow_sending_without_reply) throw new Reject(bad('message to be replied not found'));
        const msg: StoredMessage = {
          message_id: chat.nextMessageId++, chatId: chat.id, from: 'bot', date: now(), edits: 0,
          photo: { file_name: photo.name || 'photo.png', bytes, ...png },
          ...(caption ? { caption: caption.text, entities: caption.entities } : {}),
          ...(replyTo?.message_id !== undefined && chat.messages.has(replyTo.message_id) ? { reply_to_message_id: replyTo.message_id } : {}),
        };
        chat.messages.set(msg.message_id, msg);
        return this.messageObject(msg);
      }
      case 'editMessageText': {
        if (p.inline_message_id !== undefined) throw new Reject(bad('inline messages are not supported by the stand-in'));
        const chat = this.target(p);
        const msg = this.findMessage(chat, p, 'edit');
        if (msg.text === undefined) throw new Reject(bad('there is no text in the message to edit'));
        const raw = String(p.text ?? '');
        const parsed = this.parseText(raw, p.parse_mode, 'text');
        // Omitting reply_markup removes the keyboard, as on Telegram.
        const markup = this.keyboard(p.reply_markup);
        const same =
          parsed.text === msg.text &&
          JSON.stringify(parsed.entities) === JSON.stringify(msg.entities ?? []) &&
          JSON.stringify(markup ?? null) === JSON.stringify(msg.reply_markup ?? null);
        if (same) {
          throw new Reject(bad('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message'));
        }
        Object.assign(msg, { text: parsed.text, raw, entities: parsed.entities, edits: msg.edits + 1, edit_date: now() });
        if (typeof p.parse_mode === 'string') msg.parse_mode = p.parse_mode;
        else delete msg.parse_mode;
        if (markup) msg.reply_markup = markup;
        else delete msg.reply_markup;
        return this.messageObject(msg);
      }
      case 'editMessageReplyMarkup': {
        const chat = this.target(p);
        const msg = this.findMessage(chat, p, 'edit');
        const markup = this.keyboard(p.reply_markup);
        if (JSON.stringify(markup ?? null) === JSON.stringify(msg.reply_markup ?? null)) {
          throw new Reject(bad('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message'));
        }
        if (markup) msg.reply_markup = markup;
        else delete msg.reply_markup;
        msg.edits += 1;
        msg.edit_date = now();
        return this.messageObject(msg);
      }
      case 'deleteMessage': {
        const chat = this.target(p);
        const msg = this.findMessage(chat, p, 'delete');
        msg.deleted = true;
        return true;
      }
      case 'answerCallbackQuery': {
        const id = String(p.callback_query_id ?? '');
        if (!this.openCallbacks.delete(id)) {
          throw new Reject(bad('query is too old and response timeout expired or query ID is invalid'));
        }
        if (p.text !== undefined && String(p.text).length > 200) throw new Reject(bad('MESSAGE_TOO_LONG'));
        return true;
      }
      case 'sendChatAction':
        this.target(p);
        return true;
      default:
        throw new Reject(NOT_FOUND);
    }
  }
}

/** Read Bot API parameters from a query string, JSON, urlencoded or multipart body (files stay File objects). */
async function readParams(req: IncomingMessage): Promise<Record<string, unknown>> {
  const url = new URL(req.url ?? '/', 'http://standin');
  const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  const type = req.headers['content-type'] ?? '';
  if (body.length > 0) {
    if (type.includes('application/json')) Object.assign(params, JSON.parse(body.toString('utf8')));
    else if (type.includes('application/x-www-form-urlencoded')) Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
    else if (type.includes('multipart/form-data')) Object.assign(params, parseMultipart(body, type));
  }
  // grammY (like Telegram's docs) sends files as parts referenced by "attach://<id>".
  for (const [k, v] of Object.entries(params)) {
    if (typeof v === 'string' && v.startsWith('attach://')) params[k] = params[v.slice('attach://'.length)];
  }
  for (const k of JSON_PARAMS) {
    if (typeof params[k] === 'string') params[k] = JSON.parse(params[k] as string);
  }
  return params;
}

/**
 * Minimal multipart/form-data reader: grammY writes `content-disposition:form-data;name="x";filename=y`
 * (no spaces, unquoted filename), which Telegram accepts and some strict parsers do not.
 */
function parseMultipart(body: Buffer, contentType: string): Record<string, unknown> {
  const boundary = /boundary=([^;]+)/.exec(contentType)?.[1]?.replace(/^"|"$/g, '');
  if (!boundary) throw new Error('multipart without boundary');
  const out: Record<string, unknown> = {};
  const delimiter = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delimiter);
  while (pos !== -1) {
    const start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    const part = body.subarray(start + 2, next - 2); // strip the CRLF after the delimiter and before the next
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString('utf8');
    const content = part.subarray(headerEnd + 4);
    const name = /name="([^"]*)"/i.exec(headers)?.[1];
    const filename = /filename="?([^";\r\n]*)"?/i.exec(headers)?.[1];
    if (name !== undefined) {
      out[name] = filename !== undefined ? new File([new Uint8Array(content)], filename) : content.toString('utf8');
    }
    pos = next;
  }
  return out;
}
