/**
 * The Discord stand-in itself: gateway handshake (raw WebSocket and unmodified discord.js), the
 * rules it enforces (3 s deadline → 10062, second response → 40060, limits → 50035, expired
 * tokens → 50027, permissions → 50013) and 429 injection that discord.js's REST queue honours.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Client, Events, GatewayIntentBits, REST, Routes, type ChatInputCommandInteraction } from 'discord.js';
import { startDiscordStandin, type DiscordStandin } from '../support/discord/discord-standin.js';

interface GatewayPayload {
  op: number;
  t?: string;
  s?: number;
  d?: any;
}

/** A bare gateway client: HELLO → IDENTIFY → READY, collecting dispatches. */
async function rawGateway(standin: DiscordStandin, token = standin.token) {
  const events: GatewayPayload[] = [];
  const ws = new WebSocket(`${standin.gatewayUrl}?v=10&encoding=json`);
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('message', (raw) => {
    const p = JSON.parse(raw.toString()) as GatewayPayload;
    events.push(p);
    if (p.op === 10) ws.send(JSON.stringify({ op: 2, d: { token, intents: 1, properties: { os: 'linux', browser: 't', device: 't' } } }));
  });
  return { ws, events, closed };
}

const api = (s: DiscordStandin, path: string) => `${s.restApi}/v10${path}`;
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('Discord stand-in', () => {
  let s: DiscordStandin;
  let gw: Awaited<ReturnType<typeof rawGateway>>;
  const auth = (): Record<string, string> => ({ authorization: `Bot ${s.token}` });

  beforeAll(async () => {
    s = await startDiscordStandin();
    await fetch(api(s, `/applications/${s.applicationId}/guilds/${s.guildId}/commands`), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...auth() },
      body: JSON.stringify([{ name: 'ping', description: 'ping', options: [{ name: 'host', description: 'h', type: 3, autocomplete: true }] }]),
    });
    gw = await rawGateway(s);
    await s.waitFor(() => gw.events.some((e) => e.t === 'GUILD_CREATE'), 5000, 'GUILD_CREATE');
  });

  afterAll(async () => {
    gw?.ws.close();
    await s?.stop();
  });

  it('speaks HELLO, READY, GUILD_CREATE and heartbeat ACK on the gateway', async () => {
    expect(gw.events[0]).toMatchObject({ op: 10, d: { heartbeat_interval: expect.any(Number) } });
    const ready = gw.events.find((e) => e.t === 'READY')!;
    expect(ready.d).toMatchObject({ v: 10, user: { id: s.botUserId, bot: true }, application: { id: s.applicationId }, guilds: [{ id: s.guildId, unavailable: true }] });
    const guild = gw.events.find((e) => e.t === 'GUILD_CREATE')!;
    expect(guild.d.channels.map((c: { id: string }) => c.id)).toContain(s.channelId);
    gw.ws.send(JSON.stringify({ op: 1, d: guild.s }));
    await s.waitFor(() => gw.events.some((e) => e.op === 11), 2000, 'heartbeat ACK');
  });

  it('closes IDENTIFY with a wrong token (4004) and refuses REST without the bot token (401)', async () => {
    const bad = await rawGateway(s, 'not-the-token');
    expect(await bad.closed).toBe(4004);
    expect((await fetch(api(s, '/gateway/bot'))).status).toBe(401);
    const ok = await fetch(api(s, '/gateway/bot'), { headers: auth() });
    expect(await ok.json()).toMatchObject({ url: s.gatewayUrl, shards: 1 });
  });

  it('dispatches INTERACTION_CREATE and accepts one initial response; a second gets 40060', async () => {
    const h = s.userInvokes('ping', { host: 'prod' });
    const dispatched = await s.waitFor(() => gw.events.find((e) => e.t === 'INTERACTION_CREATE' && e.d.id === h.id), 2000, 'dispatch');
    expect(dispatched.d).toMatchObject({ type: 2, token: h.token, data: { name: 'ping', options: [{ name: 'host', value: 'prod' }] }, guild_id: s.guildId });
    const cb = api(s, `/interactions/${h.id}/${h.token}/callback`);
    expect((await post(cb, { type: 5 })).status).toBe(204);
    const second = await post(cb, { type: 4, data: { content: 'again' } });
    expect(second.status).toBe(400);
    expect(await second.json()).toMatchObject({ code: 40060 });
    expect(h.view().rejected.map((r) => r.code)).toEqual([40060]);
    // The first follow-up fills the deferred "thinking…" response.
    const fu = await post(api(s, `/webhooks/${s.applicationId}/${h.token}?wait=true`), { content: 'done' });
    expect(fu.status).toBe(200);
    expect(h.view().original).toMatchObject({ content: 'done', loading: false });
    expect(h.view().followups).toHaveLength(0);
  });

  it('answers 10062 to an acknowledgement after the 3-second deadline', async () => {
    const h = s.userInvokes('ping', {});
    await new Promise((r) => setTimeout(r, 3100));
    const late = await post(api(s, `/interactions/${h.id}/${h.token}/callback`), { type: 5 });
    expect(late.status).toBe(404);
    expect(await late.json()).toMatchObject({ code: 10062, message: 'Unknown interaction' });
    expect(h.view().initial).toBeUndefined();
    // And nothing can be edited through its webhook.
    const edit = await fetch(api(s, `/webhooks/${s.applicationId}/${h.token}/messages/@original`), { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"content":"x"}' });
    expect(edit.status).toBe(404);
  }, 10_000);

  it('rejects content, embeds and components over Discord limits with 50035', async () => {
    const url = api(s, `/channels/${s.channelId}/messages`);
    const cases: Array<[unknown, string]> = [
      [{ content: 'x'.repeat(2001) }, 'content'],
      [{ embeds: [{ description: 'x'.repeat(4097) }] }, 'embeds'],
      [{ embeds: [{ title: 't', fields: Array.from({ length: 26 }, (_, i) => ({ name: `f${i}`, value: 'v' })) }] }, 'embeds'],
      [{ embeds: [{ description: 'x'.repeat(4000) }, { description: 'y'.repeat(2001) }] }, 'embeds'],
      [{ content: 'b', components: [{ type: 1, components: Array.from({ length: 6 }, (_, i) => ({ type: 2, style: 1, label: 'b', custom_id: `c${i}` })) }] }, 'components'],
      [{ content: 'b', components: [{ type: 1, components: [{ type: 2, style: 1, label: 'b', custom_id: 'same' }, { type: 2, style: 1, label: 'b', custom_id: 'same' }] }] }, 'components'],
      [{ content: 'b', components: [{ type: 1, components: [{ type: 2, style: 1, label: 'b', custom_id: 'x'.repeat(101) }] }] }, 'components'],
    ];
    for (const [body, key] of cases) {
      const res = await post(url, body, auth());
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      const json = (await res.json()) as { code: number; errors: Record<string, unknown> };
      expect(json.code).toBe(50035);
      expect(Object.keys(json.errors)).toContain(key);
    }
    expect((await post(url, {}, auth())).status).toBe(400); // 50006 empty message
    expect((await post(url, { content: 'x'.repeat(2000) }, auth())).status).toBe(200);
  });

  it('stores multipart uploads and lets an edit drop them', async () => {
    const form = new FormData();
    form.append('payload_json', JSON.stringify({ content: 'see file', attachments: [{ id: 0, filename: 'out.txt' }] }));
    form.append('files[0]', new Blob(['hello from the file'], { type: 'text/plain' }), 'out.txt');
    const res = await fetch(api(s, `/channels/${s.channelId}/messages`), { method: 'POST', headers: auth(), body: form });
    const msg = (await res.json()) as { id: string; attachments: Array<{ filename: string }> };
    expect(msg.attachments[0]!.filename).toBe('out.txt');
    expect(s.message(msg.id)!.attachments[0]!.text).toBe('hello from the file');
    await fetch(api(s, `/channels/${s.channelId}/messages/${msg.id}`), { method: 'PATCH', headers: { ...auth(), 'content-type': 'application/json' }, body: '{"attachments":[]}' });
    expect(s.message(msg.id)!.attachments).toHaveLength(0);
  });

  it('enforces missing permissions, unknown channels, ephemeral messages and expired tokens', async () => {
    const locked = s.addChannel('locked');
    s.denyChannel(locked, 50013);
    const denied = await post(api(s, `/channels/${locked}/messages`), { content: 'x' }, auth());
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ code: 50013 });
    expect(await (await post(api(s, '/channels/123456789012345678/messages'), { content: 'x' }, auth())).json()).toMatchObject({ code: 10003 });

    const h = s.userInvokes('ping', {});
    await s.waitFor(() => gw.events.some((e) => e.d?.id === h.id), 2000);
    await post(api(s, `/interactions/${h.id}/${h.token}/callback`), { type: 4, data: { content: 'secret', flags: 64 } });
    const eph = h.view().original!;
    expect(eph.ephemeral).toBe(true);
    const viaChannel = await fetch(api(s, `/channels/${s.channelId}/messages/${eph.id}`), { method: 'PATCH', headers: { ...auth(), 'content-type': 'application/json' }, body: '{"content":"y"}' });
    expect(viaChannel.status).toBe(404);
    s.expireInteractionTokens();
    const viaHook = await fetch(api(s, `/webhooks/${s.applicationId}/${h.token}/messages/@original`), { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"content":"y"}' });
    expect(viaHook.status).toBe(401);
    expect(await viaHook.json()).toMatchObject({ code: 50027 });
  });

  it('injects 429 with retry_after and X-RateLimit headers, then serves normally', async () => {
    s.inject('POST /channels/*/messages', 429, 1, { retryAfter: 0.25 });
    const limited = await post(api(s, `/channels/${s.channelId}/messages`), { content: 'x' }, auth());
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ retry_after: 0.25, global: false });
    expect(limited.headers.get('retry-after')).toBe('0.25');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(limited.headers.get('x-ratelimit-reset-after')).toBe('0.25');
    expect((await post(api(s, `/channels/${s.channelId}/messages`), { content: 'x' }, auth())).status).toBe(200);
  });

  describe('with an unmodified discord.js client', () => {
    let client: Client | undefined;
    afterEach(async () => {
      await client?.destroy();
      client = undefined;
    });

    it('logs in through rest.api + GET /gateway/bot, caches the guild, and defers + edits an interaction', async () => {
      const c = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: s.restApi } });
      client = c;
      const ready = new Promise<void>((r) => c.once(Events.ClientReady, () => r()));
      const handled = new Promise<ChatInputCommandInteraction>((resolve) =>
        c.on(Events.InteractionCreate, async (i) => {
          if (!i.isChatInputCommand()) return;
          await i.deferReply();
          await i.editReply({ content: `pong ${i.options.getString('host')}` });
          resolve(i);
        }),
      );
      await c.login(s.token);
      await ready;
      expect(c.guilds.cache.get(s.guildId)?.channels.cache.has(s.channelId)).toBe(true);
      const h = s.userInvokes('ping', { host: 'prod' });
      await handled;
      const v = await h.waitFor((x) => x.original?.content === 'pong prod');
      expect(v.initial!.type).toBe(5);
      expect(v.ackLatencyMs!).toBeLessThan(3000);
    });

    it("discord.js's REST queue waits out an injected 429 and retries", async () => {
      const rest = new REST({ version: '10', api: s.restApi }).setToken(s.token);
      const limited: number[] = [];
      rest.on('rateLimited', (info) => limited.push(info.retryAfter));
      s.inject(`POST /channels/${s.channelId}/messages`, 429, 1, { retryAfter: 0.3 });
      const started = Date.now();
      const msg = (await rest.post(Routes.channelMessages(s.channelId), { body: { content: 'after 429' } })) as { id: string };
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(limited).toHaveLength(1);
      expect(s.message(msg.id)!.content).toBe('after 429');
    });
  });
});
