/**
 * A protocol-level Discord stand-in: HTTP REST (node:http) + WebSocket gateway (ws) that an
 * unmodified discord.js client connects to via `rest.api` and the URL `GET /gateway/bot` returns.
 *
 * It enforces what the real Discord enforces that matters to clawmedic: the 3-second interaction
 * acknowledgement deadline (10062), one initial response per interaction (40060), message/embed/
 * component limits (50035), expired interaction tokens (50027), missing permissions (50013/50001)
 * and injected 429s with `retry_after` + X-RateLimit headers so discord.js's REST queue waits.
 * Everything runs on loopback; nothing here talks to the real Discord.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { nextSnowflake } from './snowflake.js';
import { nestErrors, validateMessage } from './validate-message.js';

const API_PREFIX = '/api/v10';
const GATEWAY_PATH = '/gateway';
const EPHEMERAL = 64;
const LOADING = 128;

/** Interaction callback types (Discord's InteractionResponseType). */
const CB = { message: 4, deferredMessage: 5, deferredUpdate: 6, updateMessage: 7, autocomplete: 8, modal: 9 } as const;
/** Interaction types (Discord's InteractionType). */
const IT = { command: 2, component: 3, autocomplete: 4 } as const;

/** Who does something in a test: a Discord user by id, with member roles, in a channel (guild or DM). */
export interface StandinUser {
  userId?: string;
  username?: string;
  roleIds?: string[];
  /** Channel the interaction happens in; default: the stand-in's main guild channel. */
  channelId?: string;
  /** Guild of that channel; `null` for a DM (the channel is then the user's DM channel). */
  guildId?: string | null;
}

/** An attachment as the stand-in stored it, with its text for assertions. */
export interface AttachmentView {
  id: string;
  filename: string;
  size: number;
  text: string;
  /** The uploaded bytes and their MIME type (pictures). */
  data: Buffer;
  contentType: string;
}

/** A message as tests see it (ephemeral ones included, marked). */
export interface MessageView {
  id: string;
  channelId: string;
  content: string;
  embeds: Array<Record<string, any>>;
  components: Array<Record<string, any>>;
  attachments: AttachmentView[];
  flags: number;
  ephemeral: boolean;
  /** User id that can see an ephemeral message. */
  visibleTo?: string;
  /** True while a deferred response still shows "thinking...". */
  loading: boolean;
  deleted: boolean;
  /** Number of edits applied after creation. */
  edits: number;
  /** The message this one replies to (message_reference). */
  referenceId?: string;
  /** Interaction this message answers, if any. */
  interactionId?: string;
}

/** Everything that happened to one interaction. */
export interface InteractionView {
  id: string;
  type: number;
  createdAt: number;
  /** The initial callback, if one was accepted. */
  initial?: { type: number; data: any; at: number };
  /** ms from dispatch to the accepted initial callback. */
  ackLatencyMs?: number;
  /** Callbacks refused (late → 10062, second → 40060): code and when. */
  rejected: Array<{ code: number; at: number }>;
  original?: MessageView;
  followups: MessageView[];
  /** Autocomplete choices returned. */
  choices?: Array<{ name: string; value: string | number }>;
}

/** Handle returned by userInvokes/userPresses. */
export interface InteractionHandle {
  id: string;
  token: string;
  /** Resolves with the view once the initial response arrived; rejects after the deadline (+ margin). */
  acknowledged(timeoutMs?: number): Promise<InteractionView>;
  /** Current state. */
  view(): InteractionView;
  /** Waits until `predicate(view)` holds. */
  waitFor(predicate: (v: InteractionView) => boolean, timeoutMs?: number): Promise<InteractionView>;
}

/** What a test injects: the next `times` requests matching `route` answer `status`. */
export interface InjectOptions {
  /** For 429: seconds to wait (body `retry_after`, `X-RateLimit-Reset-After`); default 0.3. */
  retryAfter?: number;
  /** For 429: a global rate limit (X-RateLimit-Global). */
  global?: boolean;
  /** JSON error code for non-429 statuses (e.g. 50013). */
  code?: number;
  message?: string;
}

/** Options for startDiscordStandin. */
export interface StandinOptions {
  /** Acknowledgement deadline; Discord's is 3 s. */
  ackDeadlineMs?: number;
  /** Lifetime of an interaction token for webhook edits; Discord's is 15 min. */
  interactionTokenTtlMs?: number;
  /** HELLO heartbeat interval; Discord sends ~41 s. */
  heartbeatIntervalMs?: number;
}

interface StoredMessage {
  id: string;
  channelId: string;
  guildId?: string;
  content: string;
  embeds: any[];
  components: any[];
  attachments: Array<{ id: string; filename: string; size: number; data: Buffer; content_type: string }>;
  flags: number;
  visibleTo?: string;
  deleted: boolean;
  edits: number;
  createdAt: number;
  editedAt?: number;
  interactionId?: string;
  type: number;
  /** message_reference.message_id of a reply. */
  referenceId?: string;
}

interface StoredInteraction {
  id: string;
  token: string;
  type: number;
  createdAt: number;
  user: Required<Omit<StandinUser, 'guildId' | 'channelId'>> & { channelId: string; guildId: string | null };
  commandName?: string;
  initial?: { type: number; data: any; at: number };
  rejected: Array<{ code: number; at: number }>;
  originalMessageId?: string;
  followupIds: string[];
  componentMessageId?: string;
  choices?: Array<{ name: string; value: string | number }>;
  tokenExpired?: boolean;
}

interface StoredChannel {
  id: string;
  type: number;
  name: string;
  guildId?: string;
  recipientId?: string;
  deny?: { code: number; message: string };
}

interface Injection {
  pattern: RegExp;
  status: number;
  remaining: number;
  opts: InjectOptions;
}

interface Session {
  id: string;
  seq: number;
  ws: WebSocket | null;
  events: Array<{ s: number; payload: string }>;
  intents: number;
}

/** Thrown inside request handling to answer with a Discord JSON error. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** The running stand-in with its helpers for tests. */
export interface DiscordStandin {
  /** Pass as discord.js `rest.api` (no version suffix). */
  restApi: string;
  gatewayUrl: string;
  token: string;
  applicationId: string;
  botUserId: string;
  guildId: string;
  /** Main text channel in the guild. */
  channelId: string;
  /** A second guild text channel (for "other channels still delivered"). */
  otherChannelId: string;
  /** Create another guild text channel. */
  addChannel(name?: string): string;
  /** Make sends/edits in a channel fail like a missing permission (50013) or access (50001). */
  denyChannel(channelId: string, code?: 50013 | 50001): void;
  userInvokes(commandName: string, options?: Record<string, string | number | boolean>, user?: StandinUser): InteractionHandle;
  /** Dispatch an autocomplete for `focused` and resolve with the choices the bot returned. */
  userAutocompletes(
    commandName: string,
    options: Record<string, string | number | boolean>,
    focused: string,
    user?: StandinUser,
  ): Promise<Array<{ name: string; value: string | number }>>;
  userPresses(message: { id: string } | string, customId: string, user?: StandinUser): InteractionHandle;
  responsesFor(interactionId: string): InteractionView;
  messagesIn(channelId: string): MessageView[];
  message(messageId: string): MessageView | undefined;
  inject(route: string | RegExp, status: number, times?: number, opts?: InjectOptions): void;
  /** Drop every injection still pending: the routes answer normally again. */
  clearInjections(): void;
  registeredCommands(guildId?: string): any[];
  /** Every REST request seen: method, route (without /api/v10), status. */
  requests: Array<{ method: string; route: string; status: number; at: number }>;
  /** Gateway IDENTIFY payloads received (token omitted). */
  identifies: Array<{ intents: number; compress: boolean; url: string }>;
  resumes: number;
  /** Make every interaction token issued so far invalid for webhook calls (as after 15 minutes). */
  expireInteractionTokens(): void;
  /** Close the bot's gateway socket with `code` (4000 → discord.js resumes). */
  dropConnection(code?: number): void;
  /** Resolves when `fn` returns a truthy value (re-checked on every state change). */
  waitFor<T>(fn: () => T | undefined | null | false, timeoutMs?: number, what?: string): Promise<T>;
  stop(): Promise<void>;
}

/** Start the stand-in on a free loopback port. */
export async function startDiscordStandin(options: StandinOptions = {}): Promise<DiscordStandin> {
  const ackDeadlineMs = options.ackDeadlineMs ?? 3000;
  const tokenTtlMs = options.interactionTokenTtlMs ?? 15 * 60_000;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 41_250;

  const changes = new EventEmitter();
  changes.setMaxListeners(1000);
  const changed = (): void => void changes.emit('change');

  const token = `${Buffer.from(nextSnowflake()).toString('base64url')}.stndin.${'x'.repeat(27)}`;
  const applicationId = nextSnowflake();
  const botUserId = applicationId;
  const guildId = nextSnowflake();
  const botUser = { id: botUserId, username: 'clawmedic', discriminator: '0000', global_name: 'clawmedic', avatar: null, bot: true };

  const channels = new Map<string, StoredChannel>();
  const messages = new Map<string, StoredMessage>();
  const interactions = new Map<string, StoredInteraction>();
  const globalCommands: any[] = [];
  const guildCommands = new Map<string, any[]>();
  const injections: Injection[] = [];
  const requests: DiscordStandin['requests'] = [];
  const identifies: DiscordStandin['identifies'] = [];
  const sessions = new Map<string, Session>();
  let current: Session | undefined;
  let resumes = 0;

  const addChannel = (name = 'ops'): string => {
    const id = nextSnowflake();
    channels.set(id, { id, type: 0, name, guildId });
    return id;
  };
  const channelId = addChannel('ops');
  const otherChannelId = addChannel('alerts');
  const everyoneRole = { id: guildId, name: '@everyone', color: 0, hoist: false, position: 0, permissions: '1024', managed: false, mentionable: false, flags: 0 };

  const dmChannelFor = (userId: string): StoredChannel => {
    for (const c of channels.values()) if (c.type === 1 && c.recipientId === userId) return c;
    const c: StoredChannel = { id: nextSnowflake(), type: 1, name: '', recipientId: userId };
    channels.set(c.id, c);
    return c;
  };

  // ---------- message helpers ----------
  const apiUser = (id: string, username: string) => ({ id, username, discriminator: '0', global_name: username, avatar: null });
  const messageJson = (m: StoredMessage): Record<string, unknown> => ({
    id: m.id,
    channel_id: m.channelId,
    ...(m.guildId ? { guild_id: m.guildId } : {}),
    author: botUser,
    content: m.content,
    embeds: m.embeds,
    components: m.components,
    attachments: m.attachments.map((a) => ({
      id: a.id,
      filename: a.filename,
      size: a.size,
      url: `http://127.0.0.1/attachments/${m.channelId}/${a.id}/${a.filename}`,
      proxy_url: `http://127.0.0.1/attachments/${m.channelId}/${a.id}/${a.filename}`,
      content_type: a.content_type,
    })),
    flags: m.flags,
    timestamp: new Date(m.createdAt).toISOString(),
    edited_timestamp: m.editedAt ? new Date(m.editedAt).toISOString() : null,
    type: m.type,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    pinned: false,
    ...(m.interactionId ? { application_id: applicationId, webhook_id: applicationId } : {}),
  });
  const messageView = (m: StoredMessage): MessageView => ({
    id: m.id,
    channelId: m.channelId,
    content: m.content,
    embeds: m.embeds,
    components: m.components,
    attachments: m.attachments.map((a) => ({ id: a.id, filename: a.filename, size: a.size, text: a.data.toString('utf8'), data: a.data, contentType: a.content_type })),
    flags: m.flags,
    ephemeral: (m.flags & EPHEMERAL) !== 0,
    ...(m.visibleTo ? { visibleTo: m.visibleTo } : {}),
    loading: (m.flags & LOADING) !== 0,
    deleted: m.deleted,
    edits: m.edits,
    ...(m.interactionId ? { interactionId: m.interactionId } : {}),
    ...(m.referenceId ? { referenceId: m.referenceId } : {}),
  });

  type Upload = { filename: string; data: Buffer; contentType: string };
  const checkBody = (body: Record<string, unknown>): void => {
    const errors = validateMessage(body);
    if (errors.length) throw new ApiError(400, 50035, 'Invalid Form Body', nestErrors(errors));
  };
  /** Resolve body.attachments against uploads: `{id: n}` refers to files[n] (new) or an existing attachment id. */
  const resolveAttachments = (body: Record<string, any>, uploads: Map<string, Upload>, existing: StoredMessage['attachments']) => {
    const out: StoredMessage['attachments'] = [];
    const listed = body.attachments as Array<{ id: string | number; filename?: string }> | undefined;
    if (!listed) {
      // No attachments array: new uploads are appended (create), existing kept (edit).
      out.push(...existing);
      for (const u of uploads.values()) out.push({ id: nextSnowflake(), filename: u.filename, size: u.data.length, data: u.data, content_type: u.contentType });
      return out;
    }
    for (const a of listed) {
      const upload = uploads.get(String(a.id));
      if (upload) {
        out.push({ id: nextSnowflake(), filename: a.filename ?? upload.filename, size: upload.data.length, data: upload.data, content_type: upload.contentType });
        continue;
      }
      const kept = existing.find((e) => e.id === String(a.id));
      if (!kept) throw new ApiError(400, 50035, 'Invalid Form Body', nestErrors([{ path: 'attachments', code: 'ATTACHMENT_NOT_FOUND', message: 'Unknown attachment' }]));
      out.push(kept);
    }
    return out;
  };

  const createMessage = (
    channel: StoredChannel,
    body: Record<string, any>,
    uploads: Map<string, Upload>,
    extra: { flags?: number; visibleTo?: string; interactionId?: string; allowEmpty?: boolean; type?: number } = {},
  ): StoredMessage => {
    checkBody(body);
    const attachments = resolveAttachments(body, uploads, []);
    const empty = !body.content && !(body.embeds?.length) && !(body.components?.length) && attachments.length === 0;
    if (empty && !extra.allowEmpty) throw new ApiError(400, 50006, 'Cannot send an empty message');
    const m: StoredMessage = {
      id: nextSnowflake(),
      channelId: channel.id,
      ...(channel.guildId ? { guildId: channel.guildId } : {}),
      content: body.content ?? '',
      embeds: body.embeds ?? [],
      components: body.components ?? [],
      attachments,
      flags: extra.flags ?? 0,
      ...(extra.visibleTo ? { visibleTo: extra.visibleTo } : {}),
      deleted: false,
      edits: 0,
      createdAt: Date.now(),
      ...(extra.interactionId ? { interactionId: extra.interactionId } : {}),
      type: extra.type ?? 0,
      ...(body.message_reference?.message_id ? { referenceId: String(body.message_reference.message_id) } : {}),
    };
    messages.set(m.id, m);
    changed();
    return m;
  };

  const editMessage = (m: StoredMessage, body: Record<string, any>, uploads: Map<string, Upload>): StoredMessage => {
    checkBody(body);
    const attachments = resolveAttachments(body, uploads, m.attachments);
    if ('content' in body) m.content = body.content ?? '';
    if ('embeds' in body) m.embeds = body.embeds ?? [];
    if ('components' in body) m.components = body.components ?? [];
    m.attachments = attachments;
    m.flags &= ~LOADING;
    m.edits += 1;
    m.editedAt = Date.now();
    changed();
    return m;
  };

  // ---------- channel permission / lookup ----------
  const channelOr404 = (id: string): StoredChannel => {
    const c = channels.get(id);
    if (!c) throw new ApiError(404, 10003, 'Unknown Channel');
    return c;
  };
  const checkWritable = (c: StoredChannel): void => {
    if (c.deny) throw new ApiError(403, c.deny.code, c.deny.message);
  };

  // ---------- interactions ----------
  const interactionByToken = (appId: string, itoken: string): StoredInteraction => {
    if (appId !== applicationId) throw new ApiError(404, 10015, 'Unknown Webhook');
    const it = [...interactions.values()].find((i) => i.token === itoken);
    if (!it) throw new ApiError(404, 10015, 'Unknown Webhook');
    if (it.tokenExpired || Date.now() - it.createdAt > tokenTtlMs) throw new ApiError(401, 50027, 'Invalid Webhook Token');
    return it;
  };

  const handleCallback = (id: string, itoken: string, body: any, uploads: Map<string, Upload>, withResponse: boolean) => {
    const it = interactions.get(id);
    if (!it || it.token !== itoken) throw new ApiError(404, 10062, 'Unknown interaction');
    const now = Date.now();
    if (it.initial) {
      it.rejected.push({ code: 40060, at: now });
      changed();
      throw new ApiError(400, 40060, 'Interaction has already been acknowledged.');
    }
    if (now - it.createdAt > ackDeadlineMs) {
      it.rejected.push({ code: 10062, at: now });
      changed();
      throw new ApiError(404, 10062, 'Unknown interaction');
    }
    const type = Number(body?.type);
    const allowed: Record<number, number[]> = {
      [IT.command]: [CB.message, CB.deferredMessage, CB.modal],
      [IT.component]: [CB.message, CB.deferredMessage, CB.deferredUpdate, CB.updateMessage, CB.modal],
      [IT.autocomplete]: [CB.autocomplete],
    };
    if (!allowed[it.type]?.includes(type)) {
      throw new ApiError(400, 50035, 'Invalid Form Body', nestErrors([{ path: 'type', code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'Invalid interaction response type' }]));
    }
    const data = body.data ?? {};
    const channel = channels.get(it.user.channelId)!;
    let message: StoredMessage | undefined;
    switch (type) {
      case CB.message:
      case CB.deferredMessage: {
        const eph = ((data.flags ?? 0) & EPHEMERAL) !== 0;
        const flags = (eph ? EPHEMERAL : 0) | (type === CB.deferredMessage ? LOADING : 0);
        message = createMessage(channel, type === CB.message ? data : {}, type === CB.message ? uploads : new Map(), {
          flags,
          ...(eph ? { visibleTo: it.user.userId } : {}),
          interactionId: it.id,
          allowEmpty: type === CB.deferredMessage,
          type: 20,
        });
        it.originalMessageId = message.id;
        break;
      }
      case CB.deferredUpdate:
        it.originalMessageId = it.componentMessageId;
        break;
      case CB.updateMessage:
        message = editMessage(messages.get(it.componentMessageId!)!, data, uploads);
        it.originalMessageId = message.id;
        break;
      case CB.autocomplete: {
        const choices = (data.choices ?? []) as Array<{ name: string; value: string | number }>;
        const bad = choices.length > 25 || choices.some((c) => !c.name || c.name.length > 100 || String(c.value).length > 100);
        if (bad) throw new ApiError(400, 50035, 'Invalid Form Body', nestErrors([{ path: 'data.choices', code: 'BASE_TYPE_BAD_LENGTH', message: 'At most 25 choices of 1-100 characters' }]));
        it.choices = choices;
        break;
      }
      default:
        break;
    }
    it.initial = { type, data, at: now };
    changed();
    if (!withResponse) return undefined;
    return {
      interaction: { id: it.id, type: it.type, response_message_id: message?.id, response_message_loading: type === CB.deferredMessage, response_message_ephemeral: ((data.flags ?? 0) & EPHEMERAL) !== 0 },
      resource: { type, ...(message ? { message: messageJson(message) } : {}) },
    };
  };

  const webhookTarget = (it: StoredInteraction, mid: string): StoredMessage => {
    if (!it.initial) throw new ApiError(404, 10015, 'Unknown Webhook');
    const id = mid === '@original' ? it.originalMessageId : mid;
    const m = id ? messages.get(id) : undefined;
    const ours = m && (m.id === it.originalMessageId || it.followupIds.includes(m.id));
    if (!m || !ours || m.deleted) throw new ApiError(404, 10008, 'Unknown Message');
    return m;
  };

  // ---------- routing ----------
  type Ctx = { method: string; route: string; query: URLSearchParams; body: any; uploads: Map<string, Upload>; auth: boolean };
  const requireAuth = (ctx: Ctx): void => {
    if (!ctx.auth) throw new ApiError(401, 0, '401: Unauthorized');
  };
  const validateCommands = (list: any[]): any[] => {
    if (!Array.isArray(list) || list.length > 100) throw new ApiError(400, 50035, 'Invalid Form Body');
    const errors: Array<{ path: string; code: string; message: string }> = [];
    list.forEach((c, i) => {
      if (!/^[-_\p{Ll}\p{N}]{1,32}$/u.test(c.name ?? '')) errors.push({ path: `${i}.name`, code: 'APPLICATION_COMMAND_INVALID_NAME', message: 'Command name is invalid' });
      if (!c.description || c.description.length > 100) errors.push({ path: `${i}.description`, code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' });
      const opts = (c.options ?? []) as any[];
      if (opts.length > 25) errors.push({ path: `${i}.options`, code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' });
      let optionalSeen = false;
      opts.forEach((o, j) => {
        if (!o.required) optionalSeen = true;
        else if (optionalSeen) errors.push({ path: `${i}.options.${j}.required`, code: 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID', message: 'Required options must be placed before non-required options' });
      });
    });
    if (errors.length) throw new ApiError(400, 50035, 'Invalid Form Body', nestErrors(errors));
    return list.map((c) => ({ ...c, id: nextSnowflake(), application_id: applicationId, version: nextSnowflake(), type: c.type ?? 1 }));
  };

  const route = (ctx: Ctx): { status: number; json?: unknown } => {
    const { method, route: r } = ctx;
    let m: RegExpMatchArray | null;
    if (method === 'GET' && r === '/gateway/bot') {
      requireAuth(ctx);
      return { status: 200, json: { url: gatewayUrl, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 } } };
    }
    if (method === 'GET' && r === '/gateway') return { status: 200, json: { url: gatewayUrl } };
    if (method === 'GET' && r === '/users/@me') {
      requireAuth(ctx);
      return { status: 200, json: botUser };
    }
    if (method === 'GET' && r === '/applications/@me') {
      requireAuth(ctx);
      return { status: 200, json: { id: applicationId, name: 'clawmedic', flags: 0, bot_public: false, bot_require_code_grant: false, description: '' } };
    }
    if ((m = r.match(/^\/applications\/(\d+)\/commands$/))) {
      requireAuth(ctx);
      if (m[1] !== applicationId) throw new ApiError(403, 50001, 'Missing Access');
      if (method === 'PUT') {
        const saved = validateCommands(ctx.body);
        globalCommands.splice(0, globalCommands.length, ...saved);
        changed();
        return { status: 200, json: saved };
      }
      if (method === 'GET') return { status: 200, json: globalCommands };
    }
    if ((m = r.match(/^\/applications\/(\d+)\/guilds\/(\d+)\/commands$/))) {
      requireAuth(ctx);
      if (m[1] !== applicationId || m[2] !== guildId) throw new ApiError(403, 50001, 'Missing Access');
      if (method === 'PUT') {
        const saved = validateCommands(ctx.body).map((c) => ({ ...c, guild_id: guildId }));
        guildCommands.set(guildId, saved);
        changed();
        return { status: 200, json: saved };
      }
      if (method === 'GET') return { status: 200, json: guildCommands.get(guildId) ?? [] };
    }
    if (method === 'POST' && (m = r.match(/^\/interactions\/(\d+)\/([^/]+)\/callback$/))) {
      const out = handleCallback(m[1]!, m[2]!, ctx.body, ctx.uploads, ctx.query.get('with_response') === 'true');
      return out ? { status: 200, json: out } : { status: 204 };
    }
    if ((m = r.match(/^\/webhooks\/(\d+)\/([^/]+)\/messages\/(@original|\d+)$/))) {
      const it = interactionByToken(m[1]!, m[2]!);
      const target = webhookTarget(it, m[3]!);
      if (method === 'GET') return { status: 200, json: messageJson(target) };
      if (method === 'PATCH') return { status: 200, json: messageJson(editMessage(target, ctx.body ?? {}, ctx.uploads)) };
      if (method === 'DELETE') {
        target.deleted = true;
        changed();
        return { status: 204 };
      }
    }
    if (method === 'POST' && (m = r.match(/^\/webhooks\/(\d+)\/([^/]+)$/))) {
      const it = interactionByToken(m[1]!, m[2]!);
      if (!it.initial) throw new ApiError(404, 10015, 'Unknown Webhook');
      const original = it.originalMessageId ? messages.get(it.originalMessageId) : undefined;
      // Discord: the first follow-up to a deferred response that is still "thinking" fills that
      // response (keeping its ephemerality) instead of creating a new message.
      if (original && !original.deleted && original.flags & LOADING) {
        const edited = editMessage(original, ctx.body ?? {}, ctx.uploads);
        return { status: 200, json: messageJson(edited) };
      }
      const eph = ((ctx.body?.flags ?? 0) & EPHEMERAL) !== 0;
      const created = createMessage(channels.get(it.user.channelId)!, ctx.body ?? {}, ctx.uploads, {
        flags: eph ? EPHEMERAL : 0,
        ...(eph ? { visibleTo: it.user.userId } : {}),
        interactionId: it.id,
      });
      it.followupIds.push(created.id);
      changed();
      return ctx.query.get('wait') === 'true' ? { status: 200, json: messageJson(created) } : { status: 204 };
    }
    if ((m = r.match(/^\/channels\/(\d+)\/messages$/)) && method === 'POST') {
      requireAuth(ctx);
      const c = channelOr404(m[1]!);
      checkWritable(c);
      // Flags other than SuppressEmbeds/SuppressNotifications are ignored on normal sends.
      const flags = (ctx.body?.flags ?? 0) & (4 | 4096);
      return { status: 200, json: messageJson(createMessage(c, ctx.body ?? {}, ctx.uploads, { flags })) };
    }
    if ((m = r.match(/^\/channels\/(\d+)\/messages\/(\d+)$/))) {
      requireAuth(ctx);
      const c = channelOr404(m[1]!);
      const msg = messages.get(m[2]!);
      if (!msg || msg.channelId !== c.id || msg.deleted || msg.flags & EPHEMERAL) throw new ApiError(404, 10008, 'Unknown Message');
      if (method === 'GET') return { status: 200, json: messageJson(msg) };
      checkWritable(c);
      if (method === 'PATCH') return { status: 200, json: messageJson(editMessage(msg, ctx.body ?? {}, ctx.uploads)) };
      if (method === 'DELETE') {
        msg.deleted = true;
        changed();
        return { status: 204 };
      }
    }
    if ((m = r.match(/^\/channels\/(\d+)$/)) && method === 'GET') {
      requireAuth(ctx);
      const c = channelOr404(m[1]!);
      return { status: 200, json: channelJson(c) };
    }
    if (method === 'POST' && r === '/users/@me/channels') {
      requireAuth(ctx);
      const recipient = String(ctx.body?.recipient_id ?? '');
      if (!/^\d+$/.test(recipient)) throw new ApiError(400, 50035, 'Invalid Form Body');
      return { status: 200, json: channelJson(dmChannelFor(recipient)) };
    }
    throw new ApiError(404, 0, '404: Not Found');
  };

  const channelJson = (c: StoredChannel): Record<string, unknown> =>
    c.type === 1
      ? { id: c.id, type: 1, last_message_id: null, recipients: [apiUser(c.recipientId!, `user${c.recipientId!.slice(-4)}`)] }
      : { id: c.id, type: c.type, guild_id: c.guildId, name: c.name, position: 0, permission_overwrites: [], nsfw: false, topic: null, last_message_id: null, parent_id: null, rate_limit_per_user: 0, flags: 0 };

  // ---------- HTTP plumbing ----------
  const readBody = async (req: http.IncomingMessage): Promise<{ body: any; uploads: Map<string, Upload> }> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const uploads = new Map<string, Upload>();
    const ct = req.headers['content-type'] ?? '';
    if (raw.length === 0) return { body: undefined, uploads };
    if (ct.startsWith('multipart/form-data')) {
      const form = await new Response(raw, { headers: { 'content-type': ct } }).formData();
      let body: any = {};
      for (const [key, value] of form.entries()) {
        if (key === 'payload_json') body = JSON.parse(String(value));
        const fm = key.match(/^files\[(\d+)\]$/);
        if (fm && typeof value !== 'string') {
          uploads.set(fm[1]!, { filename: value.name, data: Buffer.from(await value.arrayBuffer()), contentType: value.type || 'application/octet-stream' });
        }
      }
      return { body, uploads };
    }
    try {
      return { body: JSON.parse(raw.toString('utf8')), uploads };
    } catch {
      throw new ApiError(400, 50109, 'The request body contains invalid JSON.');
    }
  };

  const sendJson = (res: http.ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}): void => {
    if (status === 204 || json === undefined) {
      res.writeHead(status, headers).end();
      return;
    }
    const text = JSON.stringify(json);
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(text);
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const method = (req.method ?? 'GET').toUpperCase();
      const path = decodeURIComponent(url.pathname);
      const r = path.startsWith(API_PREFIX) ? path.slice(API_PREFIX.length) : path;
      const log = (status: number): void => void requests.push({ method, route: r, status, at: Date.now() });
      try {
        const { body, uploads } = await readBody(req);
        if (!path.startsWith(API_PREFIX)) throw new ApiError(404, 0, '404: Not Found');
        const inj = injections.find((i) => i.remaining > 0 && i.pattern.test(`${method} ${r}`));
        if (inj) {
          inj.remaining -= 1;
          log(inj.status);
          if (inj.status === 429) {
            const retryAfter = inj.opts.retryAfter ?? 0.3;
            sendJson(
              res,
              429,
              { message: 'You are being rate limited.', retry_after: retryAfter, global: !!inj.opts.global, code: 0 },
              {
                'retry-after': String(Math.max(retryAfter, 0)),
                'x-ratelimit-limit': '5',
                'x-ratelimit-remaining': '0',
                'x-ratelimit-reset-after': String(retryAfter),
                'x-ratelimit-bucket': 'standin-bucket',
                'x-ratelimit-scope': inj.opts.global ? 'global' : 'user',
                ...(inj.opts.global ? { 'x-ratelimit-global': 'true' } : {}),
              },
            );
          } else {
            sendJson(res, inj.status, { message: inj.opts.message ?? `injected ${inj.status}`, code: inj.opts.code ?? 0 });
          }
          return;
        }
        const auth = req.headers.authorization === `Bot ${token}`;
        const out = route({ method, route: r, query: url.searchParams, body, uploads, auth });
        log(out.status);
        sendJson(res, out.status, out.json);
      } catch (err) {
        if (err instanceof ApiError) {
          log(err.status);
          sendJson(res, err.status, { message: err.message, code: err.code, ...(err.errors ? { errors: err.errors } : {}) });
        } else {
          log(500);
          sendJson(res, 500, { message: '500: Internal Server Error', code: 0 });
        }
      }
    })();
  });

  // ---------- gateway ----------
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== GATEWAY_PATH) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onGatewayConnection(ws, url));
  });

  const sendDispatch = (s: Session, t: string, d: unknown): void => {
    s.seq += 1;
    const payload = JSON.stringify({ op: 0, t, s: s.seq, d });
    s.events.push({ s: s.seq, payload });
    if (s.ws && s.ws.readyState === s.ws.OPEN) s.ws.send(payload);
  };

  const guildJson = () => ({
    id: guildId,
    name: 'clawmedic-test',
    icon: null,
    owner_id: nextSnowflake(),
    unavailable: false,
    member_count: 3,
    large: false,
    joined_at: new Date().toISOString(),
    features: [],
    roles: [everyoneRole],
    channels: [...channels.values()].filter((c) => c.guildId === guildId).map(channelJson),
    threads: [],
    members: [],
    presences: [],
    voice_states: [],
    emojis: [],
    stickers: [],
    stage_instances: [],
    guild_scheduled_events: [],
    afk_timeout: 300,
    afk_channel_id: null,
    system_channel_id: null,
    system_channel_flags: 0,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    mfa_level: 0,
    premium_tier: 0,
    premium_subscription_count: 0,
    preferred_locale: 'en-US',
    nsfw_level: 0,
    application_id: null,
    vanity_url_code: null,
    description: null,
    banner: null,
    splash: null,
    discovery_splash: null,
    rules_channel_id: null,
    public_updates_channel_id: null,
    safety_alerts_channel_id: null,
    max_members: 500000,
    premium_progress_bar_enabled: false,
  });

  const onGatewayConnection = (ws: WebSocket, url: URL): void => {
    const compress = url.searchParams.has('compress');
    if (url.searchParams.get('encoding') !== 'json' || compress) {
      // Only plain JSON is implemented; a zlib-stream client would see garbage, so refuse clearly.
      ws.close(4002, 'Decode error: stand-in speaks encoding=json without compression only');
      return;
    }
    let session: Session | undefined;
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: heartbeatIntervalMs } }));
    ws.on('message', (raw) => {
      let p: { op: number; d: any };
      try {
        p = JSON.parse(raw.toString());
      } catch {
        ws.close(4002, 'Decode error');
        return;
      }
      switch (p.op) {
        case 1:
          ws.send(JSON.stringify({ op: 11 }));
          break;
        case 2: {
          if (p.d?.token !== token) {
            ws.close(4004, 'Authentication failed.');
            return;
          }
          identifies.push({ intents: Number(p.d.intents), compress: !!p.d.compress, url: `${url.pathname}${url.search}` });
          session = { id: nextSnowflake(), seq: 0, ws, events: [], intents: Number(p.d.intents) };
          sessions.set(session.id, session);
          current = session;
          sendDispatch(session, 'READY', {
            v: 10,
            user: { ...botUser, verified: true, mfa_enabled: false, flags: 0 },
            guilds: [{ id: guildId, unavailable: true }],
            session_id: session.id,
            resume_gateway_url: gatewayUrl,
            shard: [0, 1],
            application: { id: applicationId, flags: 0 },
          });
          sendDispatch(session, 'GUILD_CREATE', guildJson());
          changed();
          break;
        }
        case 6: {
          const s = sessions.get(String(p.d?.session_id));
          if (!s || p.d?.token !== token) {
            ws.send(JSON.stringify({ op: 9, d: false }));
            return;
          }
          s.ws = ws;
          session = s;
          current = s;
          resumes += 1;
          for (const e of s.events) if (e.s > Number(p.d.seq ?? 0)) ws.send(e.payload);
          sendDispatch(s, 'RESUMED', {});
          changed();
          break;
        }
        default:
          break; // presence updates etc. are accepted and ignored
      }
    });
    ws.on('close', () => {
      if (session && session.ws === ws) session.ws = null;
    });
  };

  // ---------- start ----------
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const restApi = `http://127.0.0.1:${port}/api`;
  const gatewayUrl = `ws://127.0.0.1:${port}${GATEWAY_PATH}`;

  // ---------- test helpers ----------
  const waitFor = <T>(fn: () => T | undefined | null | false, timeoutMs = 5000, what = 'condition'): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        const v = fn();
        if (v) {
          cleanup();
          resolve(v);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Discord stand-in: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const poll = setInterval(check, 50);
      const cleanup = (): void => {
        clearTimeout(timer);
        clearInterval(poll);
        changes.off('change', check);
      };
      changes.on('change', check);
      check();
    });

  const resolveUser = (u: StandinUser = {}): StoredInteraction['user'] => {
    const userId = u.userId ?? '100000000000000001';
    const isDm = u.guildId === null;
    const chan = isDm ? (u.channelId ?? dmChannelFor(userId).id) : (u.channelId ?? channelId);
    if (!channels.has(chan)) throw new Error(`Discord stand-in: unknown channel ${chan}`);
    return { userId, username: u.username ?? `user${userId.slice(-4)}`, roleIds: u.roleIds ?? [], channelId: chan, guildId: isDm ? null : (u.guildId ?? guildId) };
  };

  const baseInteraction = (it: StoredInteraction): Record<string, unknown> => {
    const user = apiUser(it.user.userId, it.user.username);
    const channel = channels.get(it.user.channelId)!;
    const common = {
      id: it.id,
      application_id: applicationId,
      type: it.type,
      token: it.token,
      version: 1,
      channel: channelJson(channel),
      channel_id: channel.id,
      app_permissions: '2248473465835073',
      locale: 'en-US',
      entitlements: [],
      attachment_size_limit: 10 * 1024 * 1024,
    };
    if (it.user.guildId) {
      return {
        ...common,
        guild_id: it.user.guildId,
        guild_locale: 'en-US',
        context: 0,
        authorizing_integration_owners: { '0': it.user.guildId },
        member: {
          user,
          roles: it.user.roleIds,
          permissions: '2248473465835073',
          joined_at: new Date(0).toISOString(),
          deaf: false,
          mute: false,
          flags: 0,
          pending: false,
          nick: null,
          avatar: null,
          premium_since: null,
          communication_disabled_until: null,
        },
      };
    }
    return { ...common, user, context: 1, authorizing_integration_owners: { '1': it.user.userId } };
  };

  const dispatchInteraction = (it: StoredInteraction, data: Record<string, unknown>, extra: Record<string, unknown> = {}): void => {
    if (!current || !current.ws) throw new Error('Discord stand-in: no gateway session is connected');
    interactions.set(it.id, it);
    it.createdAt = Date.now();
    sendDispatch(current, 'INTERACTION_CREATE', { ...baseInteraction(it), data, ...extra });
    changed();
  };

  const findCommand = (name: string, gid: string | null): any => {
    const scoped = gid ? (guildCommands.get(gid) ?? []) : [];
    const cmd = [...scoped, ...globalCommands].find((c) => c.name === name);
    if (!cmd) throw new Error(`Discord stand-in: command /${name} is not registered${gid ? ' for this guild or globally' : ' globally'}`);
    return cmd;
  };

  const buildOptions = (cmd: any, values: Record<string, string | number | boolean>, focused?: string): any[] => {
    const defs = (cmd.options ?? []) as any[];
    for (const k of Object.keys(values)) {
      if (!defs.some((d) => d.name === k)) throw new Error(`Discord stand-in: /${cmd.name} has no option "${k}"`);
    }
    if (!focused) {
      for (const d of defs) if (d.required && !(d.name in values)) throw new Error(`Discord stand-in: /${cmd.name} requires option "${d.name}"`);
    } else if (!defs.some((d) => d.name === focused && d.autocomplete)) {
      throw new Error(`Discord stand-in: /${cmd.name} option "${focused}" has no autocomplete`);
    }
    return defs
      .filter((d) => d.name in values)
      .map((d) => ({ name: d.name, type: d.type, value: values[d.name], ...(focused === d.name ? { focused: true } : {}) }));
  };

  const view = (id: string): InteractionView => {
    const it = interactions.get(id);
    if (!it) throw new Error(`Discord stand-in: unknown interaction ${id}`);
    const original = it.originalMessageId ? messages.get(it.originalMessageId) : undefined;
    return {
      id: it.id,
      type: it.type,
      createdAt: it.createdAt,
      ...(it.initial ? { initial: it.initial, ackLatencyMs: it.initial.at - it.createdAt } : {}),
      rejected: [...it.rejected],
      ...(original ? { original: messageView(original) } : {}),
      followups: it.followupIds.map((f) => messageView(messages.get(f)!)),
      ...(it.choices ? { choices: it.choices } : {}),
    };
  };

  const handle = (it: StoredInteraction): InteractionHandle => ({
    id: it.id,
    token: it.token,
    view: () => view(it.id),
    acknowledged: (timeoutMs = ackDeadlineMs + 500) => waitFor(() => (it.initial ? view(it.id) : undefined), timeoutMs, `acknowledgement of interaction ${it.id}`),
    waitFor: (predicate, timeoutMs = 5000) =>
      waitFor(() => {
        const v = view(it.id);
        return predicate(v) ? v : undefined;
      }, timeoutMs, `interaction ${it.id} to match`),
  });

  const newInteraction = (type: number, user: StandinUser | undefined): StoredInteraction => ({
    id: nextSnowflake(),
    token: `aW50ZXJhY3Rpb24${Buffer.from(nextSnowflake()).toString('base64url')}${'t'.repeat(40)}`,
    type,
    createdAt: Date.now(),
    user: resolveUser(user),
    rejected: [],
    followupIds: [],
  });

  return {
    restApi,
    gatewayUrl,
    token,
    applicationId,
    botUserId,
    guildId,
    channelId,
    otherChannelId,
    requests,
    identifies,
    get resumes() {
      return resumes;
    },
    addChannel,
    denyChannel(id, code = 50013) {
      const c = channelOr404(id);
      c.deny = { code, message: code === 50001 ? 'Missing Access' : 'Missing Permissions' };
    },
    userInvokes(commandName, options = {}, user) {
      const it = newInteraction(IT.command, user);
      const cmd = findCommand(commandName, it.user.guildId);
      it.commandName = commandName;
      const data = { id: cmd.id, name: cmd.name, type: 1, options: buildOptions(cmd, options), ...(cmd.guild_id ? { guild_id: cmd.guild_id } : {}) };
      dispatchInteraction(it, data);
      return handle(it);
    },
    async userAutocompletes(commandName, options, focused, user) {
      const it = newInteraction(IT.autocomplete, user);
      const cmd = findCommand(commandName, it.user.guildId);
      const data = { id: cmd.id, name: cmd.name, type: 1, options: buildOptions(cmd, { ...options, [focused]: options[focused] ?? '' }, focused) };
      dispatchInteraction(it, data);
      const v = await handle(it).acknowledged();
      return v.choices ?? [];
    },
    userPresses(message, customId, user) {
      const mid = typeof message === 'string' ? message : message.id;
      const msg = messages.get(mid);
      if (!msg || msg.deleted) throw new Error(`Discord stand-in: no message ${mid} to press a button on`);
      const it = newInteraction(IT.component, { channelId: msg.channelId, ...user });
      if (msg.visibleTo && msg.visibleTo !== it.user.userId) throw new Error('Discord stand-in: that ephemeral message is not visible to this user');
      const button = msg.components.flatMap((row: any) => row.components ?? []).find((c: any) => c.custom_id === customId);
      if (!button) throw new Error(`Discord stand-in: message ${mid} has no component "${customId}"`);
      if (button.disabled) throw new Error(`Discord stand-in: button "${customId}" is disabled`);
      it.componentMessageId = msg.id;
      dispatchInteraction(it, { custom_id: customId, component_type: 2 }, { message: messageJson(msg) });
      return handle(it);
    },
    responsesFor: view,
    messagesIn: (id) => [...messages.values()].filter((m) => m.channelId === id).map(messageView),
    message: (id) => {
      const m = messages.get(id);
      return m ? messageView(m) : undefined;
    },
    inject(routePattern, status, times = 1, opts = {}) {
      const pattern =
        typeof routePattern === 'string'
          ? new RegExp(`^${routePattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/ ]+')}$`)
          : routePattern;
      injections.push({ pattern, status, remaining: times, opts });
    },
    clearInjections() {
      injections.length = 0;
    },
    registeredCommands: (gid) => (gid ? (guildCommands.get(gid) ?? []) : globalCommands),
    expireInteractionTokens() {
      for (const it of interactions.values()) it.tokenExpired = true;
    },
    dropConnection(code = 4000) {
      current?.ws?.close(code, 'stand-in dropped the connection');
    },
    waitFor,
    async stop() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
