/**
 * Issue 12.3: no secret at rest in Redis. A stale-tab /fix through Discord (real discord.js against
 * the stand-in, real router, BullMQ on real Redis, real sshd) while Discord refuses the DM for a
 * while, so the fresh dashboard link waits in the notify queue; meanwhile every key under the test
 * prefix is read back (SCAN + TYPE + the read its type needs) and searched for the link's token,
 * for `#token=` and for the Discord interaction tokens the adapter keeps for later edits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/app-harness.js';
import { startDiscordStandin, type DiscordStandin, type MessageView, type StandinUser } from '../support/discord/discord-standin.js';
import { keysContaining, readAllUnder } from '../support/redis-scan.js';
import type { SequencedDelivery } from '../../src/jobs/notifier.js';
import { DELIVERY } from '../../src/constants.js';

const OPERATOR: StandinUser = { userId: '310000000000000001', username: 'olga' };
/** The gateway token in the stand-in's `openclaw dashboard --json` output (src/standin/samples/dashboard.json). */
const DASHBOARD_TOKEN = 'standin-dashboard-token-7c1e9a';
const DM_ROUTE = '/users/@me/channels';

let s: DiscordStandin;
let h: Harness;

beforeAll(async () => {
  s = await startDiscordStandin();
  h = await startHarness({
    app: { adapters: ['console', 'discord'] },
    secrets: { discordToken: s.token, discordApplicationId: s.applicationId, discordGuildId: s.guildId },
    extra: {
      discord: { restApi: s.restApi, guildId: s.guildId },
      people: [
        { platform: 'console', userId: 'local', role: 'admin' },
        { platform: 'discord', userId: OPERATOR.userId, role: 'operator' },
      ],
      chats: [{ platform: 'discord', chatId: s.channelId, hosts: ['prod'] }],
      fix: { maxAttemptsPerHour: 20, verifyWindowSec: 1 },
    },
  });
  await s.waitFor(() => s.registeredCommands(s.guildId).length > 0, 10_000, 'slash command registration');
}, 60_000);

afterAll(async () => {
  await h?.close();
  await s?.stop();
});

type Embed = { title?: string };
const titleOf = (m: MessageView | undefined): string => ((m?.embeds[0] ?? {}) as Embed).title ?? '';
const buttonsOf = (m: MessageView | undefined) => (m?.components ?? []).flatMap((row) => (row.components ?? []) as Array<{ custom_id: string }>);
const textOf = (m: MessageView): string => `${m.content}\n${JSON.stringify(m.embeds)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('secrets at rest (issue 12.3)', () => {
  it('a fresh dashboard link waiting for delivery and the Discord interaction tokens are nowhere in Redis in plain text; the link still reaches the user privately', async () => {
    await h.standin.setScenario('stale_client');
    // Discord refuses to open the DM for now: the link's delivery waits in the notify queue and is retried.
    s.inject(`POST ${DM_ROUTE}`, 500, 100_000);

    const cmd = s.userInvokes('fix', { host: 'prod' }, OPERATOR);
    await cmd.acknowledged();
    const planned = await cmd.waitFor((x) => /stale tab/.test(titleOf(x.original)) && buttonsOf(x.original).length > 0, 30_000);
    const plan = planned.original!;
    const confirmId = buttonsOf(plan).find((b) => b.custom_id.startsWith('confirm:'))!.custom_id;
    const press = s.userPresses(plan, confirmId, OPERATOR);
    await press.acknowledged();
    await s.waitFor(() => /^prod: (fixed|action needed on your side)/.test(titleOf(s.message(plan.id))), 60_000, 'the fix outcome');
    // At least two delivery attempts of the link have failed: it is queued for a retry right now.
    const failedDmOpens = () => s.requests.filter((r) => r.route === DM_ROUTE && r.status === 500).length;
    await until(() => failedDmOpens() >= 5, 20_000, 'a retried delivery of the link');

    const needles = [DASHBOARD_TOKEN, '#token=', cmd.token, press.token];
    expect(await keysContaining(h.app.redis, h.keys, needles), 'plain-text secrets stored under the prefix while the link waits').toEqual([]);
    // What is there instead: the link sealed in the waiting job, for minutes, and the interaction tokens sealed, each
    // under a key that Redis drops within Discord's 15 minutes.
    const waiting = await h.app.queues.notify.discord.getJobs(['delayed', 'waiting', 'active']);
    const linkJob = waiting.find((j) => (j.data as SequencedDelivery).sealedSecret !== undefined);
    expect(linkJob, 'the link waiting, sealed').toBeDefined();
    expect((linkJob!.data as SequencedDelivery).expiresAt! - Date.now()).toBeLessThanOrEqual(DELIVERY.secretTtlSec * 1000);
    const sealedTokens = (await readAllUnder(h.app.redis, h.keys)).filter((v) => v.key.startsWith(h.keys.messageRefSecret('discord', '')));
    expect(sealedTokens.length).toBeGreaterThanOrEqual(2);
    for (const v of sealedTokens) {
      expect(v.text).toMatch(/^s1\.\d+\./);
      const ttl = await h.app.redis.pttl(v.key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(15 * 60_000);
    }

    // Discord accepts DMs again: the queued link is delivered, privately, to the requester.
    s.clearInjections();
    const dm = await until(
      () => s.requests.find((r) => r.method === 'POST' && r.route === DM_ROUTE && r.status === 200),
      30_000,
      'the DM channel to open',
    );
    expect(dm).toBeDefined();
    const link = await s.waitFor(
      () => {
        const dmChannels = new Set(s.requests.filter((r) => r.route.startsWith('/channels/') && r.method === 'POST').map((r) => r.route.split('/')[2]!));
        for (const ch of dmChannels) {
          const m = s.messagesIn(ch).find((x) => x.content.includes('#token='));
          if (m) return m;
        }
        return undefined;
      },
      30_000,
      'the private link',
    );
    expect(link.content).toBe(`http://127.0.0.1:${h.standin.port}/#token=${DASHBOARD_TOKEN}`);
    expect(titleOf(link)).toBe('prod: fresh dashboard link (private)');
    expect(link.channelId).not.toBe(s.channelId);
    for (const m of s.messagesIn(s.channelId).filter((x) => !x.ephemeral)) expect(textOf(m)).not.toContain('#token=');

    // Delivered: still nothing in plain text.
    expect(await keysContaining(h.app.redis, h.keys, needles)).toEqual([]);
  }, 120_000);
});
