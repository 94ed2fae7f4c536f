/**
 * clawmedic end to end through Discord: unmodified discord.js against the Discord stand-in, the
 * real router, BullMQ on real Redis, a real sshd and the OpenClaw host stand-in. Asserts on what
 * the user sees in Discord (deferral, in-place edits, ephemeral/DM privacy) and on what ran on the host.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/app-harness.js';
import { startDiscordStandin, type DiscordStandin, type InteractionHandle, type MessageView, type StandinUser } from '../support/discord/discord-standin.js';
import { TONE_COLOURS } from '../../src/chat/discord/render.js';

/** Discord users (snowflakes) and their roles in clawmedic.yaml; STRANGER is in no config. */
const OPERATOR: StandinUser = { userId: '310000000000000001', username: 'olga' };
const VIEWER: StandinUser = { userId: '310000000000000002', username: 'victor' };
const STRANGER: StandinUser = { userId: '310000000000000009', username: 'mallory' };
/** ssh connect deadline for every host; the "hang" host never answers, so it fails after this. */
const CONNECT_TIMEOUT_SEC = 4;
const ACK_DEADLINE_MS = 3000;

let s: DiscordStandin;
let h: Harness;
let blackhole: net.Server;
const held: net.Socket[] = [];

beforeAll(async () => {
  s = await startDiscordStandin({ ackDeadlineMs: ACK_DEADLINE_MS });
  // A host that hangs: TCP accepts, then nothing ever answers (a wedged sshd / frozen box).
  blackhole = net.createServer((sock) => {
    held.push(sock);
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
  const hangPort = (blackhole.address() as AddressInfo).port;
  h = await startHarness({
    moreHosts: () => [
      { name: 'hang', ssh: { port: hangPort } as never },
      { name: 'elsewhere' },
    ],
    app: { adapters: ['console', 'discord'] },
    secrets: { discordToken: s.token, discordApplicationId: s.applicationId, discordGuildId: s.guildId },
    extra: {
      discord: { restApi: s.restApi, guildId: s.guildId },
      people: [
        { platform: 'console', userId: 'local', role: 'admin' },
        { platform: 'discord', userId: OPERATOR.userId, role: 'operator' },
        { platform: 'discord', userId: VIEWER.userId, role: 'viewer' },
      ],
      chats: [
        { platform: 'discord', chatId: s.channelId, hosts: ['prod', 'hang'] },
        { platform: 'discord', chatId: s.otherChannelId, hosts: ['elsewhere'] },
      ],
      jobs: { connectTimeoutSec: CONNECT_TIMEOUT_SEC },
      fix: { maxAttemptsPerHour: 20, verifyWindowSec: 1 },
    },
  });
  // The adapter registers the slash commands after READY; interactions need them.
  await s.waitFor(() => s.registeredCommands(s.guildId).length > 0, 10_000, 'slash command registration');
}, 60_000);

afterAll(async () => {
  await h?.close();
  for (const sock of held) sock.destroy();
  await new Promise((r) => blackhole?.close(r));
  await s?.stop();
});

// ---------------------------------------------------------------- helpers

type Embed = { title?: string; description?: string; color?: number; footer?: { text: string }; fields?: Array<{ name: string; value: string }> };
const embedOf = (m: MessageView | undefined): Embed => (m?.embeds[0] ?? {}) as Embed;
const titleOf = (m: MessageView | undefined): string => embedOf(m).title ?? '';
const buttonsOf = (m: MessageView | undefined) =>
  (m?.components ?? []).flatMap((row) => (row.components ?? []) as Array<{ custom_id: string; label: string }>);
/** Everything a message shows, for "this text appears nowhere" checks. */
const textOf = (m: MessageView): string => `${m.content}\n${JSON.stringify(m.embeds)}\n${m.attachments.map((a) => a.text).join('\n')}`;

const ran = async (): Promise<string[]> => (await h.standin.calls()).map((argv) => argv.join(' '));
const changedHost = (c: string): boolean => /doctor --fix|^systemctl --user (start|stop|restart) |gateway (restart|stop|start)/.test(c);

/** The titles a message goes through (every edit, via the stand-in's change events) until `done` holds. */
async function follow(messageId: string, done: (m: MessageView) => boolean, timeoutMs: number): Promise<{ titles: string[]; final: MessageView }> {
  const titles: string[] = [];
  const final = await s.waitFor(
    () => {
      const m = s.message(messageId);
      const t = titleOf(m);
      if (m && t && titles[titles.length - 1] !== t) titles.push(t);
      return m && done(m) ? m : undefined;
    },
    timeoutMs,
    `message ${messageId} to reach its final state`,
  );
  return { titles, final };
}

/** Acknowledged within Discord's deadline, with nothing refused (no 10062, no 40060). */
async function ackedInTime(i: InteractionHandle, type: number) {
  const v = await i.acknowledged();
  expect(v.initial?.type).toBe(type);
  expect(v.ackLatencyMs).toBeLessThan(ACK_DEADLINE_MS);
  expect(v.rejected).toEqual([]);
  return v;
}

/** `/fix prod` by `user` up to the plan embed with Confirm/Cancel; returns the plan message. */
async function planFix(user: StandinUser): Promise<MessageView> {
  const i = s.userInvokes('fix', { host: 'prod' }, user);
  const v = await ackedInTime(i, 5); // DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
  expect(v.original?.loading).toBe(true);
  expect(v.original?.ephemeral).toBe(false);
  const planned = await i.waitFor((x) => titleOf(x.original).includes('confirm the fix?'), 30_000);
  const plan = planned.original!;
  expect(buttonsOf(plan).map((b) => b.label)).toEqual(['Confirm fix', 'Cancel']);
  expect(buttonsOf(plan).map((b) => b.custom_id.split(':')[0])).toEqual(['confirm', 'cancel']);
  // One response, edited in place: no follow-ups for the same interaction.
  expect(planned.followups).toEqual([]);
  return plan;
}

const customId = (m: MessageView, action: string): string => buttonsOf(m).find((b) => b.custom_id.startsWith(`${action}:`))!.custom_id;

/** The DM channel between the bot and a user, as Discord would return it. */
async function dmChannelOf(userId: string): Promise<string> {
  const res = await fetch(`${s.restApi}/v10/users/@me/channels`, {
    method: 'POST',
    headers: { authorization: `Bot ${s.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ recipient_id: userId }),
  });
  return ((await res.json()) as { id: string }).id;
}

/**
 * The plan message's titles after Confirm, in order, each once: queued → step k of n … → verifying → fixed.
 * A stale progress state may be left out when a newer state of the message was already waiting to be sent
 * (issue 13.4); none is shown after a later one. The "queued" title names no job id (issue 14: job ids stay
 * in the audit trail and logs).
 */
function expectFixSequence(titles: string[]): void {
  const from = titles.findIndex((t) => t.includes('confirm the fix?'));
  const after = titles.slice(from + 1);
  expect(after[0], `first title after Confirm: ${after[0]}`).toBe('prod: fix confirmed, queued.');
  const n = Number(/ — step \d+\/(\d+)$/m.exec(after.join('\n'))?.[1] ?? 0);
  const order = [
    after[0],
    ...Array.from({ length: n }, (_, k) => `prod: fixing gateway down — step ${k + 1}/${n}`),
    'prod: verifying (probe + 1 s log window)…',
    'prod: fixed (gateway down)',
  ];
  const ranks = after.map((t) => order.indexOf(t));
  expect(ranks.every((r, i) => r >= 0 && (i === 0 || r > ranks[i - 1]!)), after.join(' | ')).toBe(true);
  expect(after.at(-1)).toBe('prod: fixed (gateway down)');
}

/** Run the whole gateway_down fix and return the titles the plan message went through. */
async function confirmAndFollow(plan: MessageView, user: StandinUser) {
  const press = s.userPresses(plan, customId(plan, 'confirm'), user);
  await ackedInTime(press, 6); // DEFERRED_UPDATE_MESSAGE: the plan message is edited in place
  return follow(plan.id, (m) => /^prod: (fixed|NOT fixed|fix failed|action needed)/.test(titleOf(m)), 60_000);
}

// ---------------------------------------------------------------- tests

describe('Discord e2e: slash commands → router → BullMQ → sshd → host stand-in → Discord', () => {
  it('/fix prod (gateway down): deferred, plan with Confirm/Cancel, nothing runs until Confirm, then progress and "prod: fixed"', async () => {
    await h.standin.setScenario('gateway_down');
    await h.standin.clearCalls();
    const plan = await planFix(OPERATOR);
    expect(plan.ephemeral).toBe(false);
    expect(embedOf(plan).description).toMatch(/doctor --fix/);
    // Nothing changed on the host before the confirmation.
    expect((await ran()).some(changedHost)).toBe(false);

    const { titles, final } = await confirmAndFollow(plan, OPERATOR);
    expect(titleOf(final)).toMatch(/^prod: fixed/);
    expect(embedOf(final).color).toBe(TONE_COLOURS.ok);
    expectFixSequence(titles);
    // No job id in chat: the footer says how long it took.
    expect(embedOf(final).footer?.text).toMatch(/^\d+(\.\d)? m?s$/);
    // Per-step durations are shown as fields.
    expect(embedOf(final).fields?.map((f) => f.value).join('\n')).toMatch(/exit 0, \d+(\.\d)? m?s/);
    // The Confirm/Cancel buttons are gone once the fix runs.
    expect(buttonsOf(final)).toEqual([]);
    // The channel saw one message for the whole flow (deferred → plan → progress → result).
    expect(s.messagesIn(s.channelId).filter((m) => m.interactionId === plan.interactionId && !m.deleted)).toHaveLength(1);

    const calls = await ran();
    const stop = calls.findIndex((c) => /^systemctl --user stop -- openclaw-gateway\.service/.test(c));
    const doctor = calls.findIndex((c) => c === 'openclaw doctor --fix');
    const start = calls.findIndex((c) => /^systemctl --user start -- openclaw-gateway\.service/.test(c));
    expect(stop).toBeGreaterThanOrEqual(0);
    expect(doctor).toBeGreaterThan(stop);
    expect(start).toBeGreaterThan(doctor);
  }, 60_000);

  it('/status prod: one deferred response, edited to "prod: OK"', async () => {
    await h.standin.setScenario('healthy');
    const i = s.userInvokes('status', { host: 'prod' }, VIEWER);
    await ackedInTime(i, 5);
    const v = await i.waitFor((x) => titleOf(x.original) === 'prod: OK', 20_000);
    expect(embedOf(v.original).color).toBe(TONE_COLOURS.ok);
    expect(embedOf(v.original).description).toContain('OpenClaw 2026.9.6');
    expect(v.original?.ephemeral).toBe(false);
    expect(v.followups).toEqual([]);
    expect(s.messagesIn(s.channelId).filter((m) => m.interactionId === i.id)).toHaveLength(1);
  });

  it('autocomplete of host offers the hosts bound to the channel, and nothing elsewhere', async () => {
    const all = await s.userAutocompletes('fix', { host: '' }, 'host', OPERATOR);
    expect(all.map((c) => c.value)).toEqual(['hang', 'prod']);
    expect((await s.userAutocompletes('status', { host: 'pr' }, 'host', VIEWER)).map((c) => c.value)).toEqual(['prod']);
    // Another channel sees only its own binding; an unbound channel and a stranger see nothing.
    expect((await s.userAutocompletes('fix', { host: '' }, 'host', { ...OPERATOR, channelId: s.otherChannelId })).map((c) => c.value)).toEqual(['elsewhere']);
    const unbound = s.addChannel('random');
    expect(await s.userAutocompletes('fix', { host: '' }, 'host', { ...OPERATOR, channelId: unbound })).toEqual([]);
    expect(await s.userAutocompletes('fix', { host: '' }, 'host', STRANGER)).toEqual([]);
  });

  it('refuses a viewer (/fix, and pressing Confirm) and a user not in the config, privately', async () => {
    await h.standin.setScenario('gateway_down');
    await h.standin.clearCalls();

    // A viewer runs /fix: deferred ephemeral from the start (issue 14: no public "thinking…" that is
    // then deleted), and only the viewer sees the refusal, in that same response.
    const fix = s.userInvokes('fix', { host: 'prod' }, VIEWER);
    await ackedInTime(fix, 5);
    const refused = await fix.waitFor((x) => titleOf(x.original) === '/fix needs the operator role; you are viewer.', 10_000);
    expect(refused.original?.ephemeral).toBe(true);
    expect(refused.original?.deleted).toBeFalsy();
    expect(refused.original?.visibleTo).toBe(VIEWER.userId);
    expect(refused.followups).toEqual([]);
    expect(embedOf(refused.original).color).toBe(TONE_COLOURS.error);
    expect(s.messagesIn(s.channelId).filter((m) => m.interactionId === fix.id && !m.ephemeral)).toEqual([]);

    // A stranger (not in config) is refused the same way, even for /status.
    const status = s.userInvokes('status', { host: 'prod' }, STRANGER);
    await ackedInTime(status, 5);
    const strangerView = await status.waitFor((x) => /is not in the config/.test(titleOf(x.original)), 10_000);
    expect(strangerView.original?.ephemeral).toBe(true);
    expect(strangerView.original?.visibleTo).toBe(STRANGER.userId);
    expect(strangerView.followups).toEqual([]);
    expect(titleOf(strangerView.original)).toContain(`user id ${STRANGER.userId} on discord is not in the config`);

    // An operator's plan: the viewer and the stranger press Confirm; both are refused, the plan stays.
    const plan = await planFix(OPERATOR);
    for (const who of [VIEWER, STRANGER]) {
      const press = s.userPresses(plan, customId(plan, 'confirm'), who);
      await ackedInTime(press, 6);
      const pv = await press.waitFor((x) => x.followups.length > 0, 10_000);
      expect(pv.followups[0]!.ephemeral).toBe(true);
      expect(pv.followups[0]!.visibleTo).toBe(who.userId);
      // Someone not in the config is told that, not which role a button needs (Discord must answer every press).
      expect(titleOf(pv.followups[0])).toEqual(
        who === STRANGER ? expect.stringContaining(`user id ${STRANGER.userId} on discord is not in the config`) : 'Sorry, pressing confirm needs the operator role.',
      );
    }
    expect(titleOf(s.message(plan.id))).toContain('confirm the fix?');
    expect(buttonsOf(s.message(plan.id))).toHaveLength(2);
    expect((await ran()).some(changedHost)).toBe(false);

    // The operator cancels: the plan message says so, and still nothing ran.
    const cancel = s.userPresses(plan, customId(plan, 'cancel'), OPERATOR);
    await ackedInTime(cancel, 6);
    const { final } = await follow(plan.id, (m) => titleOf(m).includes('fix cancelled'), 10_000);
    expect(titleOf(final)).toBe('prod: fix cancelled; nothing was changed.');
    expect(buttonsOf(final)).toEqual([]);
    expect((await ran()).some(changedHost)).toBe(false);
  }, 60_000);

  it('refuses an already-used button and an expired one', async () => {
    await h.standin.setScenario('gateway_down');
    await h.standin.clearCalls();

    // Two fast clicks on Cancel: the first cancels, the second finds its token used.
    const plan = await planFix(OPERATOR);
    const first = s.userPresses(plan, customId(plan, 'cancel'), OPERATOR);
    const second = s.userPresses(plan, customId(plan, 'cancel'), OPERATOR);
    await Promise.all([ackedInTime(first, 6), ackedInTime(second, 6)]);
    await follow(plan.id, (m) => titleOf(m).includes('fix cancelled'), 10_000);
    const again = await second.waitFor((x) => x.followups.length > 0, 10_000);
    expect(again.followups[0]!.ephemeral).toBe(true);
    expect(titleOf(again.followups[0])).toBe('This button has expired or was already used. Send the command again.');

    // A plan left alone until its confirmation expires (its TTL runs out in Redis).
    const stale = await planFix(OPERATOR);
    const token = customId(stale, 'confirm').split(':')[1]!;
    const key = h.keys.button(token);
    expect(await h.app.redis.pexpire(key, 1)).toBe(1);
    await new Promise((r) => setTimeout(r, 20));
    const late = s.userPresses(stale, customId(stale, 'confirm'), OPERATOR);
    await ackedInTime(late, 6);
    const lv = await late.waitFor((x) => x.followups.length > 0, 10_000);
    expect(titleOf(lv.followups[0])).toBe('This button has expired or was already used. Send the command again.');
    expect(lv.followups[0]!.ephemeral).toBe(true);
    expect((await ran()).some(changedHost)).toBe(false);
  }, 60_000);

  it('a host that hangs: the command is acknowledged in time, the user later gets a clear failure', async () => {
    const i = s.userInvokes('status', { host: 'hang' }, OPERATOR);
    const acked = await ackedInTime(i, 5);
    const v = await i.waitFor((x) => titleOf(x.original) === 'hang: UNREACHABLE', (CONNECT_TIMEOUT_SEC + 10) * 1000);
    // It really hung past Discord's deadline: the answer came after the SSH connect deadline.
    expect(Date.now() - acked.createdAt).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_SEC * 1000);
    expect(embedOf(v.original).color).toBe(TONE_COLOURS.error);
    expect(embedOf(v.original).description).toContain(`hang: SSH connect timed out after ${CONNECT_TIMEOUT_SEC} s`);
    expect(v.followups).toEqual([]);
    expect(v.rejected).toEqual([]);
  }, 30_000);

  it('/fix for a stale browser tab: the fresh dashboard link goes to the user privately, never to the channel; no restart', async () => {
    await h.standin.setScenario('stale_client');
    await h.standin.clearCalls();
    const i = s.userInvokes('fix', { host: 'prod' }, OPERATOR);
    await ackedInTime(i, 5);
    const planned = await i.waitFor((x) => /stale tab/.test(titleOf(x.original)) && buttonsOf(x.original).length > 0, 30_000);
    const plan = planned.original!;
    expect(embedOf(plan).description).toContain('(no restart)');
    const press = s.userPresses(plan, customId(plan, 'confirm'), OPERATOR);
    await ackedInTime(press, 6);
    const { final } = await follow(plan.id, (m) => /^prod: (fixed|NOT fixed|fix failed|action needed)/.test(titleOf(m)), 60_000);
    // The user still has to open the link, so "action needed" is as good as it gets right away.
    expect(titleOf(final)).toMatch(/^prod: (fixed|action needed on your side) \(stale tab\)$/);
    expect(buttonsOf(final)).toEqual([]);

    // The link reached the operator privately: a DM (or an ephemeral message only they can see).
    const dm = s.messagesIn(await dmChannelOf(OPERATOR.userId!));
    const ephemeral = s.messagesIn(s.channelId).filter((m) => m.ephemeral && m.visibleTo === OPERATOR.userId);
    const privateLink = [...dm, ...ephemeral].find((m) => /#token=/.test(textOf(m)));
    expect(privateLink, 'the fresh dashboard link, sent privately').toBeDefined();
    expect(textOf(privateLink!)).toMatch(/http:\/\/127\.0\.0\.1:\d+\/#token=/);
    expect(titleOf(privateLink)).toBe('prod: fresh dashboard link (private)');
    expect(privateLink!.ephemeral || dm.includes(privateLink!)).toBe(true);

    // …and never in a guild channel where others can read it.
    for (const channel of [s.channelId, s.otherChannelId]) {
      for (const m of s.messagesIn(channel).filter((x) => !x.ephemeral)) expect(textOf(m)).not.toMatch(/#token=/);
    }
    const calls = await ran();
    expect(calls).toContain('openclaw dashboard --json --no-open');
    expect(calls.some(changedHost)).toBe(false);
  }, 60_000);

  it('429s on the edit route: the edits are delayed, not lost or reordered', async () => {
    await h.standin.setScenario('gateway_down');
    await h.standin.clearCalls();
    const plan = await planFix(OPERATOR);
    const since = s.requests.length;
    // The next three edits of the interaction response are rate limited; discord.js waits and retries.
    s.inject('PATCH /webhooks/*/*/messages/*', 429, 3, { retryAfter: 0.4 });
    const { titles, final } = await confirmAndFollow(plan, OPERATOR);
    expect(titleOf(final)).toMatch(/^prod: fixed/);

    const edits = s.requests.slice(since).filter((r) => r.method === 'PATCH' && r.route.startsWith('/webhooks/'));
    expect(edits.filter((r) => r.status === 429)).toHaveLength(3);
    expect(edits.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(3);
    // The states shown, in order, ending at fixed: the rate-limited edits were delayed, not reordered.
    expectFixSequence(titles);
  }, 60_000);
});
