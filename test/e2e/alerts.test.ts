/**
 * clawmedic alerts end to end through BOTH chat stand-ins at once: real OpenClaw 4008/1008 lines appended to the
 * host stand-in's gateway log → the monitor's log follower over a real sshd → incidents in real Redis → the notify
 * queue → the real grammY and discord.js adapters → the Telegram group and the Discord channel. Asserts on what the
 * users see in both chats (one alert edited in place, reminders, ack, recovery, mute, diagnose, host unreachable) and
 * on what ran on the host. Steps run in order on one host; each builds on the state the previous one left.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/app-harness.js';
import { failurePair } from '../support/monitor-harness.js';
import { startTelegramStandin, type SeenMessage, type TelegramStandin } from '../support/telegram/telegram-standin.js';
import { startDiscordStandin, type DiscordStandin, type MessageView, type StandinUser } from '../support/discord/discord-standin.js';
import { PICTURE_SIZE } from '../../src/alerts/incident-picture.js';

/** The Telegram group (a supergroup id, as most groups are today) and its operator. */
const TG_GROUP = -1001500000001;
const TG_OPERATOR = 1001;
/** The operator's name as the config's `people[].name` gives it (it wins over the Telegram first name). */
const TG_OPERATOR_NAME = 'Ada';
const DC_OPERATOR: StandinUser = { userId: '310000000000000001', username: 'olga' };

/** The alert policy of the run (clawmedic.yaml `alerts`), in seconds. */
const POLICY = { fireAfterEvents: 3, fireWindowSec: 60, resolveAfterSec: 8, reminderIntervalSec: 3, probeFailuresToFire: 2, probeIntervalSec: 1 };
const REMINDER_MS = POLICY.reminderIntervalSec * 1000;

/** Anything that changes the host: alerts must never run one of these by themselves (auto-fix is off). */
const MUTATING = /doctor --fix|systemctl --user (start|stop|restart)|docker (restart|start|stop)|openclaw gateway (restart|start|stop|install)/;

let tg: TelegramStandin;
let s: DiscordStandin;
let h: Harness;

beforeAll(async () => {
  tg = await startTelegramStandin();
  // The bot was added to the group; Telegram refuses messages into chats it does not know.
  tg.addChat(TG_GROUP, 'supergroup', 'ops');
  s = await startDiscordStandin();
  h = await startHarness({
    app: {
      adapters: ['console', 'telegram', 'discord'],
      monitor: true,
      monitorTuning: {
        tickMs: 200,
        backoffMinMs: 200,
        backoffMaxMs: 1000,
        probeIntervalMs: 1000,
        editMinIntervalMs: 1500,
        // A resolved incident leaves the flap window quickly, so the mute step opens a new one.
        flapWindowMs: 1500,
        blindNoticeAfterMs: 60_000,
      },
    },
    secrets: { telegramToken: tg.token, discordToken: s.token, discordApplicationId: s.applicationId, discordGuildId: s.guildId },
    extra: {
      telegram: { mode: 'polling', apiRoot: tg.apiRoot },
      discord: { restApi: s.restApi, guildId: s.guildId },
      people: [
        { platform: 'console', userId: 'local', role: 'admin' },
        { platform: 'telegram', userId: TG_OPERATOR, role: 'operator', name: 'Ada' },
        { platform: 'discord', userId: DC_OPERATOR.userId, role: 'operator', name: 'Olga' },
      ],
      chats: [
        { platform: 'telegram', chatId: TG_GROUP, hosts: ['prod'], alerts: true },
        { platform: 'discord', chatId: s.channelId, hosts: ['prod'], alerts: true },
      ],
      alerts: POLICY,
      jobs: { connectTimeoutSec: 3 },
    },
  });
  await s.waitFor(() => s.registeredCommands(s.guildId).length > 0, 10_000, 'slash command registration');
  // The monitor holds the host and its follower has read the log's startup lines.
  await tg.waitFor(() => h.app.monitor?.ownedHosts().includes('prod'), 10_000, 'the monitor to follow prod');
  await sleep(1500);
}, 60_000);

afterAll(async () => {
  await h?.close();
  await tg?.stop();
  await s?.stop();
});

// ------------------------------------------------------------------ helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Append one real failed-connect pair (1008 reason line + its 4008 line) per origin; each origin is a distinct client. */
async function appendFailures(origins: string[]): Promise<void> {
  await h.standin.appendLog(origins.flatMap((origin) => failurePair({ origin })));
}

// Telegram: what the group shows.
const tgTitle = (m: SeenMessage | undefined): string => m?.text?.split('\n')[0] ?? '';
const tgIncident = (m: SeenMessage | undefined): string | undefined => /incident (\S+)(?: · reminder \d+)?\s*$/.exec(m?.text ?? '')?.[1];
/** Messages of the group other than incident pictures (photos answering an alert: checked on their own). */
const tgMessages = (): SeenMessage[] => tg.messagesIn(TG_GROUP).filter((m) => !m.photo);
const tgPictures = (): SeenMessage[] => tg.messagesIn(TG_GROUP).filter((m) => m.photo);
const tgMessage = (id: number): SeenMessage | undefined => tgMessages().find((m) => m.message_id === id);
const tgWith = (re: RegExp, incident?: string): SeenMessage[] =>
  tgMessages().filter((m) => re.test(tgTitle(m)) && (incident === undefined || tgIncident(m) === incident));
const tgButtons = (m: SeenMessage | undefined): string[] => (m?.buttons ?? []).map((b) => b.text);
/** Successful Bot API calls into the group (sends and edits): the group's share of Telegram's 20/min. */
const tgGroupCalls = () => tg.calls().filter((c) => c.status === 200 && Number(c.params.chat_id) === TG_GROUP);

// Discord: what the channel shows.
type Embed = { title?: string; description?: string; footer?: { text: string }; fields?: Array<{ name: string; value: string }> };
const dEmbed = (m: MessageView | undefined): Embed => (m?.embeds[0] ?? {}) as Embed;
/** Markdown as Discord shows it: the adapter escapes plain text (`token\\_mismatch` reads as `token_mismatch`). */
const unescapeMd = (t: string): string => t.replace(/\\([\\*_~`|[\]<>#-])/g, '$1');
const dTitle = (m: MessageView | undefined): string => unescapeMd(dEmbed(m).title ?? '');
const dIncident = (m: MessageView | undefined): string | undefined => /^incident (\S+)/.exec(unescapeMd(dEmbed(m).footer?.text ?? ''))?.[1];
const dField = (m: MessageView | undefined, name: string): string | undefined => {
  const v = dEmbed(m).fields?.find((f) => f.name === name)?.value;
  return v === undefined ? undefined : unescapeMd(v);
};
const isPicture = (m: MessageView): boolean => /^attachment:\/\/incident\.png$/.test(String(m.embeds[0]?.image?.url ?? ''));
/** Channel messages other than incident pictures (checked on their own). */
const dMessages = (): MessageView[] => s.messagesIn(s.channelId).filter((m) => !m.deleted && !m.ephemeral && !isPicture(m));
const dPictures = (): MessageView[] => s.messagesIn(s.channelId).filter((m) => !m.deleted && isPicture(m));
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const dWith = (re: RegExp, incident?: string): MessageView[] =>
  dMessages().filter((m) => re.test(dTitle(m)) && (incident === undefined || dIncident(m) === incident));
const dButtons = (m: MessageView | undefined) =>
  (m?.components ?? []).flatMap((row) => (row.components ?? []) as Array<{ custom_id: string; label: string }>);
const dCustomId = (m: MessageView, label: string): string => {
  const b = dButtons(m).find((x) => x.label === label);
  expect(b, `a "${label}" button on "${dTitle(m)}" (has ${dButtons(m).map((x) => x.label).join(', ')})`).toBeDefined();
  return b!.custom_id;
};

/** An alert message (any state) of host prod, by title: Telegram titles carry a tone mark first. */
const ALERT_TG = /^\S+ (ALERT|ACKED|MUTED|FLAPPING|RESOLVED): prod: /;
const ALERT_DC = /^(ALERT|ACKED|MUTED|FLAPPING|RESOLVED): prod: /;
const REMINDER_TG = /^\S+ Still firing for .+: prod: /;
const REMINDER_DC = /^Still firing for .+: prod: /;
const RECOVERY_TG = /^\S+ Recovered: prod: /;
const RECOVERY_DC = /^Recovered: prod: /;

const ran = async (): Promise<string[]> => (await h.standin.calls()).map((argv) => argv.join(' '));

/** Wait for `fn` to hold, polling (for state that is not in one stand-in). */
async function until<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

// State carried from step to step.
let incident1 = '';
let tgAlert1 = 0;
let dAlert1 = '';
let incident2 = '';
let dAlert2 = '';

// ------------------------------------------------------------------ flows

describe('alerts e2e: gateway log → monitor → Telegram group AND Discord channel', () => {
  it('1. 4008/1008 pairs from several clients → one alert in the Telegram group and the Discord channel within seconds', async () => {
    const started = Date.now();
    await appendFailures(['http://localhost:18789', 'https://claw.example.com', 'http://10.0.0.7:18789']);
    const tgAlert = await tg.waitFor(() => tgWith(ALERT_TG)[0], 10_000, 'the alert in Telegram');
    const dAlert = await s.waitFor(() => dWith(ALERT_DC)[0], 10_000, 'the alert in Discord');
    expect(Date.now() - started).toBeLessThan(5000);

    incident1 = tgIncident(tgAlert)!;
    expect(incident1).toMatch(/^prod\.token_mismatch\./);
    expect(dIncident(dAlert)).toBe(incident1);
    tgAlert1 = tgAlert.message_id;
    dAlert1 = dAlert.id;

    // Telegram: title with host and cause, fields with counts, buttons.
    expect(tgTitle(tgAlert)).toBe('❌ ALERT: prod: clients present a wrong gateway token (4008 connect failed)');
    expect(tgAlert.text).toContain('Host: prod');
    expect(tgAlert.text).toContain('Cause: token_mismatch');
    expect(tgAlert.text).toContain('Count: 3 events, 3 clients');
    expect(tgAlert.text).toMatch(/code=4008 \(connect failed\) ← gateway: token_mismatch/);
    expect(tgButtons(tgAlert)).toEqual(['Diagnose', 'Fix', 'Ack', 'Mute 1h']);
    // Discord: the same, as an embed with buttons.
    expect(dTitle(dAlert)).toBe('ALERT: prod: clients present a wrong gateway token (4008 connect failed)');
    expect(dField(dAlert, 'Host')).toBe('prod');
    expect(dField(dAlert, 'Cause')).toBe('token_mismatch');
    expect(dField(dAlert, 'Count')).toBe('3 events, 3 clients');
    expect(dButtons(dAlert).map((b) => b.label)).toEqual(['Diagnose', 'Fix', 'Ack', 'Mute 1h']);
    // One alert per chat, nothing else about prod yet.
    expect(tgMessages()).toHaveLength(1);
    expect(dMessages()).toHaveLength(1);

  });

  it('2. more lines → the same message is edited in each chat; no new alert message', async () => {
    const tgEdits = tgMessage(tgAlert1)!.edits;
    const dEdits = s.message(dAlert1)!.edits;
    await appendFailures(['http://localhost:18789', 'https://other.example.org']);
    await tg.waitFor(() => tgMessage(tgAlert1)?.text?.includes('Count: 5 events, 4 clients'), 10_000, 'the Telegram alert edited to 5 events');
    await s.waitFor(() => dField(s.message(dAlert1), 'Count') === '5 events, 4 clients', 10_000, 'the Discord alert edited to 5 events');

    expect(tgMessage(tgAlert1)!.edits).toBeGreaterThan(tgEdits);
    expect(s.message(dAlert1)!.edits).toBeGreaterThan(dEdits);
    expect(tgTitle(tgMessage(tgAlert1))).toMatch(/^❌ ALERT: prod: /);
    expect(tgWith(ALERT_TG)).toHaveLength(1);
    expect(dWith(ALERT_DC)).toHaveLength(1);
    // Edits, not sends: one sendMessage into the group so far.
    expect(tgGroupCalls().filter((c) => c.method === 'sendMessage')).toHaveLength(1);
  });

  it('3. reminders come; Ack pressed in Telegram → both alerts show who acked; no reminder for 2 intervals after', async () => {
    // At least one reminder in each chat before the ack.
    await tg.waitFor(() => tgWith(REMINDER_TG, incident1).length >= 1, REMINDER_MS + 5000, 'a reminder in Telegram');
    await s.waitFor(() => dWith(REMINDER_DC, incident1).length >= 1, 5000, 'a reminder in Discord');
    const reminder = tgWith(REMINDER_TG, incident1)[0]!;
    expect(reminder.text).toContain('Ack stops these reminders.');
    expect(reminder.message_id).not.toBe(tgAlert1);

    const alert = tgMessage(tgAlert1)!;
    const ackData = alert.buttons.find((b) => b.text === 'Ack')!.data;
    const answered = tg.calls('answerCallbackQuery').length;
    await tg.userPresses(TG_GROUP, TG_OPERATOR, tgAlert1, ackData);
    const ackedAt = Date.now();
    const toast = await tg.waitFor(() => tg.calls('answerCallbackQuery')[answered], 10_000, 'the answer to the press');
    expect(toast.status).toBe(200);
    const tgRemindersAtAck = tgWith(REMINDER_TG, incident1).length;
    const dRemindersAtAck = dWith(REMINDER_DC, incident1).length;

    // Both alert messages now name who acked; the Ack button is gone, the others stay.
    const tgAcked = await tg.waitFor(
      () => {
        const m = tgMessage(tgAlert1);
        return m && /^⚠️ ACKED: prod: /.test(tgTitle(m)) && m.text?.includes(`Acked by: ${TG_OPERATOR_NAME} at `) ? m : undefined;
      },
      10_000,
      'the Telegram alert to show the ack',
    );
    expect(tgButtons(tgAcked)).toEqual(['Diagnose', 'Fix', 'Mute 1h']);
    const dAcked = await s.waitFor(
      () => {
        const m = s.message(dAlert1);
        return m && dTitle(m).startsWith('ACKED: prod: ') && dField(m, 'Acked by')?.startsWith(`${TG_OPERATOR_NAME} at `) ? m : undefined;
      },
      10_000,
      'the Discord alert to show the ack',
    );
    expect(dButtons(dAcked).map((b) => b.label)).toEqual(['Diagnose', 'Fix', 'Mute 1h']);

    // Still failing (a client keeps trying) while we watch: no reminder for two intervals after the ack.
    await sleep(REMINDER_MS);
    await appendFailures(['http://localhost:18789']);
    expect(h.app.monitor!.incidents().find((i) => i.id === incident1)?.phase).toBe('firing');
    await sleep(Math.max(0, ackedAt + 2 * REMINDER_MS + 300 - Date.now()));
    expect(h.app.monitor!.incidents().find((i) => i.id === incident1)?.phase).toBe('firing');
    expect(tgWith(REMINDER_TG, incident1)).toHaveLength(tgRemindersAtAck);
    expect(dWith(REMINDER_DC, incident1)).toHaveLength(dRemindersAtAck);
    // Still one alert message per chat.
    expect(tgWith(ALERT_TG)).toHaveLength(1);
    expect(dWith(ALERT_DC)).toHaveLength(1);
  }, 40_000);

  it('4. lines stop, probe ok → a recovery notice in both chats (also for the acked incident); alerts edited to resolved', async () => {
    const tgRec = await tg.waitFor(() => tgWith(RECOVERY_TG, incident1)[0], POLICY.resolveAfterSec * 1000 + 8000, 'the recovery in Telegram');
    const dRec = await s.waitFor(() => dWith(RECOVERY_DC, incident1)[0], 5000, 'the recovery in Discord');
    expect(tgTitle(tgRec)).toBe('✅ Recovered: prod: clients present a wrong gateway token (4008 connect failed)');
    expect(tgRec.text).toContain(`Acked by ${TG_OPERATOR_NAME}.`);
    expect(tgRec.text).toContain('6 events, 4 clients');
    expect(dTitle(dRec)).toBe('Recovered: prod: clients present a wrong gateway token (4008 connect failed)');
    expect(dEmbed(dRec).description).toContain(`Acked by ${TG_OPERATOR_NAME}.`);
    // A new message each, not an edit of the alert.
    expect(tgRec.message_id).not.toBe(tgAlert1);
    expect(dRec.id).not.toBe(dAlert1);

    // The alert messages themselves turn "resolved", without buttons.
    const tgResolved = await tg.waitFor(() => (/^✅ RESOLVED: prod: /.test(tgTitle(tgMessage(tgAlert1))) ? tgMessage(tgAlert1) : undefined), 5000, 'the Telegram alert resolved');
    expect(tgResolved.buttons).toEqual([]);
    expect(tgResolved.text).toContain('Resolved: ');
    const dResolved = await s.waitFor(() => (dTitle(s.message(dAlert1)).startsWith('RESOLVED: prod: ') ? s.message(dAlert1) : undefined), 5000, 'the Discord alert resolved');
    expect(dButtons(dResolved)).toEqual([]);
    expect(tgWith(RECOVERY_TG)).toHaveLength(1);
    expect(dWith(RECOVERY_DC)).toHaveLength(1);
  }, 30_000);

  it('5. /mute prod 10m in Discord → new failures alert nowhere while muted; /unmute prod → the held alert is delivered', async () => {
    // The resolved incident leaves the flap window, so new failures open a new incident.
    await until(() => h.app.monitor!.incidents().length === 0, 10_000, 'the resolved incident to close');

    const mute = s.userInvokes('mute', { host: 'prod', duration: '10m' }, DC_OPERATOR);
    const muted = await mute.waitFor((v) => /alerts muted/.test(dTitle(v.original)), 10_000);
    expect(dTitle(muted.original)).toMatch(/^prod: alerts muted for 10 min \(until \d{4}-\d\d-\d\d \d\d:\d\d UTC\) by Olga\.$/);
    const tgBefore = tgMessages().length;
    const dBefore = dMessages().length;

    await appendFailures(['http://localhost:18789', 'https://claw.example.com', 'http://10.0.0.7:18789']);
    await until(() => h.app.monitor!.incidents().some((i) => i.phase === 'firing'), 10_000, 'a firing incident while muted');
    await sleep(2000);
    // Nothing new in either chat: no alert, no reminder.
    expect(tgMessages()).toHaveLength(tgBefore);
    expect(dMessages()).toHaveLength(dBefore);

    const unmute = s.userInvokes('unmute', { host: 'prod' }, DC_OPERATOR);
    const unmuted = await unmute.waitFor((v) => /alerts resumed/.test(dTitle(v.original)), 10_000);
    expect(dTitle(unmuted.original)).toBe('prod: alerts resumed by Olga (muted by Olga).');

    const tgAlert = await tg.waitFor(() => tgWith(ALERT_TG).find((m) => tgIncident(m) !== incident1), 10_000, 'the held alert in Telegram');
    const dAlert = await s.waitFor(() => dWith(ALERT_DC).find((m) => dIncident(m) !== incident1), 10_000, 'the held alert in Discord');
    incident2 = tgIncident(tgAlert)!;
    dAlert2 = dAlert.id;
    expect(incident2).not.toBe(incident1);
    expect(dIncident(dAlert)).toBe(incident2);
    expect(tgTitle(tgAlert)).toMatch(/^❌ ALERT: prod: /);
    expect(tgAlert.text).toContain('Count: 3 events, 3 clients');
    expect(dField(dAlert, 'Count')).toBe('3 events, 3 clients');
    expect(tgButtons(tgAlert)).toEqual(['Diagnose', 'Fix', 'Ack', 'Mute 1h']);
    expect(tgWith(ALERT_TG)).toHaveLength(2);
    expect(dWith(ALERT_DC)).toHaveLength(2);
  }, 40_000);

  it('6. Diagnose pressed on the alert in Discord → the diagnose result comes as a new message; the alert stays', async () => {
    const callsBefore = (await ran()).length;
    const alert = s.message(dAlert2)!;
    expect(dTitle(alert)).toMatch(/^ALERT: prod: /);
    const press = s.userPresses(alert, dCustomId(alert, 'Diagnose'), DC_OPERATOR);
    const acked = await press.acknowledged();
    expect(acked.initial?.type).toBe(6); // DEFERRED_UPDATE_MESSAGE: nothing changes on the alert yet
    expect(acked.rejected).toEqual([]);

    const done = await press.waitFor(
      (v) => v.followups.some((f) => /^prod: /.test(dTitle(f)) && !/Diagnosing/.test(dTitle(f)) && dButtons(f).length > 0),
      30_000,
    );
    const result = done.followups.find((f) => /^prod: /.test(dTitle(f)))!;
    expect(result.id).not.toBe(dAlert2);
    expect(result.ephemeral).toBe(false);
    expect(dTitle(result)).toMatch(/^prod: (token mismatch|stale tab|token rotated)/);
    expect(dButtons(result).map((b) => b.label)).toEqual(['Fix', 'Diagnose again']);
    expect(dMessages().some((m) => m.id === result.id)).toBe(true);
    // Diagnose again on that result: its Fix/Diagnose-again were issued together and are all spent → taken off.
    const again = s.userPresses(result, dCustomId(result, 'Diagnose again'), DC_OPERATOR);
    expect((await again.acknowledged()).rejected).toEqual([]);
    await s.waitFor(() => (dButtons(s.message(result.id)).length === 0 ? true : undefined), 15_000, 'the spent buttons to be removed');
    expect(dTitle(s.message(result.id))).toBe(dTitle(result));

    // The alert message is still the alert (it may have moved on to acked/resolved, never to the verdict).
    const after = s.message(dAlert2)!;
    expect(dTitle(after)).toMatch(ALERT_DC);
    expect(dIncident(after)).toBe(incident2);
    // Diagnose read the host (its evidence pass lists the port's listeners; the probe does not); it changed nothing.
    const calls = (await ran()).slice(callsBefore);
    expect(calls).toContain('ss -tlnp');
    expect(calls.some((c) => MUTATING.test(c))).toBe(false);

    // The incident recovers (quiet + probe ok) in both chats before the next step.
    await tg.waitFor(() => tgWith(RECOVERY_TG, incident2)[0], POLICY.resolveAfterSec * 1000 + 8000, 'the recovery of the second incident in Telegram');
    await s.waitFor(() => dWith(RECOVERY_DC, incident2)[0], 5000, 'the recovery of the second incident in Discord');
  }, 50_000);

  it('7. the host\'s sshd stops → exactly one "host unreachable" alert per chat; sshd back → recovery in both', async () => {
    await until(() => h.app.monitor!.incidents().length === 0, 10_000, 'the earlier incidents to close');
    const tgBefore = tgMessages().length;
    const dBefore = dMessages().length;

    // Stop the daemon and every session it holds (an open SSH connection would otherwise keep working).
    await h.sshd.dropConnections();
    process.kill(Number(readFileSync(path.join(h.sshd.tmpDir, 'sshd.pid'), 'utf8').trim()), 'SIGTERM');

    const UNREACHABLE_TG = /^❌ ALERT: prod: host unreachable over SSH$/;
    const UNREACHABLE_DC = /^ALERT: prod: host unreachable over SSH$/;
    const tgAlert = await tg.waitFor(() => tgWith(UNREACHABLE_TG)[0], 20_000, 'the unreachable alert in Telegram');
    const dAlert = await s.waitFor(() => dWith(UNREACHABLE_DC)[0], 5000, 'the unreachable alert in Discord');
    const incident = tgIncident(tgAlert)!;
    expect(incident).toMatch(/^prod\.host_unreachable\./);
    expect(dIncident(dAlert)).toBe(incident);
    expect(tgAlert.text).toContain('Check the server and its SSH daemon');
    // Give more probes time to fail: still one alert per chat, and nothing else alerts meanwhile.
    await sleep(2000);
    const tgNew = tgMessages().slice(tgBefore);
    const dNew = dMessages().slice(dBefore);
    expect(tgNew.filter((m) => ALERT_TG.test(tgTitle(m)))).toEqual([expect.objectContaining({ message_id: tgAlert.message_id })]);
    expect(dNew.filter((m) => ALERT_DC.test(dTitle(m))).map((m) => m.id)).toEqual([dAlert.id]);
    // Anything else sent meanwhile is about that incident (a reminder at most).
    expect(tgNew.every((m) => tgIncident(m) === incident)).toBe(true);
    expect(dNew.every((m) => dIncident(m) === incident)).toBe(true);

    await h.sshd.restart();
    // By now the group has had the earlier alerts' pictures too (one message each of Telegram's 20 a minute per
    // group): the recovery and the last edit may wait for the group's minute window, up to about 61 s.
    const tgRec = await tg.waitFor(() => tgWith(RECOVERY_TG, incident)[0], 65_000, 'the reachability recovery in Telegram');
    await s.waitFor(() => dWith(RECOVERY_DC, incident)[0], 5000, 'the reachability recovery in Discord');
    expect(tgTitle(tgRec)).toBe('✅ Recovered: prod: host unreachable over SSH');
    await tg.waitFor(() => /^✅ RESOLVED: prod: host unreachable/.test(tgTitle(tgMessage(tgAlert.message_id))), 65_000, 'the Telegram alert resolved');
    await s.waitFor(() => dTitle(s.message(dAlert.id)).startsWith('RESOLVED: prod: host unreachable'), 5000, 'the Discord alert resolved');
    expect(tgWith(UNREACHABLE_TG)).toHaveLength(0);
    expect(tgMessages().filter((m) => tgIncident(m) === incident && ALERT_TG.test(tgTitle(m)))).toHaveLength(1);
    expect(dMessages().filter((m) => dIncident(m) === incident && ALERT_DC.test(dTitle(m)))).toHaveLength(1);
  }, 180_000);

  it('8. Mute pressed on a firing alert in Discord → the alert says MUTED, by whom and until when, without Ack/Mute; /unmute → ALERT with every button again', async () => {
    await until(() => h.app.monitor!.incidents().length === 0, 15_000, 'the earlier incidents to close');
    // Discord drives this step: earlier steps used the Telegram group's 20-a-minute budget, so its edits now wait.
    // A client keeps failing throughout, so the incident stays open while muted and after.
    await appendFailures(['http://localhost:18789', 'https://claw.example.com', 'http://10.0.0.7:18789']);
    const keepFailing = setInterval(() => void appendFailures(['http://localhost:18789']), 2000);
    try {
      const dAlert = await s.waitFor(
        () => dWith(ALERT_DC).find((m) => /^prod\.token_mismatch\./.test(dIncident(m) ?? '') && ![incident1, incident2].includes(dIncident(m)!) && dTitle(m).startsWith('ALERT: ')),
        10_000,
        'a third alert in Discord',
      );
      expect(dButtons(dAlert).map((b) => b.label)).toEqual(['Diagnose', 'Fix', 'Ack', 'Mute 1h']);

      const press = s.userPresses(dAlert, dCustomId(dAlert, 'Mute 1h'), DC_OPERATOR);
      expect((await press.acknowledged()).rejected).toEqual([]);
      const dMuted = await s.waitFor(() => (dTitle(s.message(dAlert.id)).startsWith('MUTED: prod: ') ? s.message(dAlert.id) : undefined), 10_000, 'the Discord alert to show MUTED');
      expect(dField(dMuted, 'Muted by')).toMatch(/^Olga until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
      expect(dButtons(dMuted).map((b) => b.label)).toEqual(['Diagnose', 'Fix']);

      const unmute = s.userInvokes('unmute', { host: 'prod' }, DC_OPERATOR);
      await unmute.waitFor((v) => /alerts resumed/.test(dTitle(v.original)), 10_000);
      const dBack = await s.waitFor(
        () => (dTitle(s.message(dAlert.id)).startsWith('ALERT: prod: ') && !dField(s.message(dAlert.id), 'Muted by') ? s.message(dAlert.id) : undefined),
        10_000,
        'the Discord alert to be an alert again',
      );
      expect(dButtons(dBack).map((b) => b.label)).toEqual(['Diagnose', 'Fix', 'Ack', 'Mute 1h']);
    } finally {
      clearInterval(keepFailing);
    }
  }, 60_000);

  it('each incident alerted got one picture per chat, answering its alert (the host-unreachable one none)', async () => {
    // A PNG photo in Telegram, an embed image in Discord; checked at the end so waiting for it changes no step's timing.
    const photo = await tg.waitFor(() => tgPictures().find((m) => m.caption?.includes(`incident ${incident1}`)), 15_000, 'the incident picture in Telegram');
    expect(photo.reply_to_message_id).toBe(tgAlert1);
    expect(photo.photo!.bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect([photo.photo!.width, photo.photo!.height]).toEqual([PICTURE_SIZE.width, PICTURE_SIZE.height]);
    expect(photo.caption).toMatch(/^\S+ prod, the last 3 h: /);
    expect(photo.caption).toContain(`incident ${incident1}`);
    expect(photo.caption!.length).toBeLessThanOrEqual(1024);
    const dPic = await s.waitFor(() => dPictures().find((m) => m.referenceId === dAlert1), 15_000, 'the incident picture in Discord');
    expect(dPic.referenceId).toBe(dAlert1);
    expect(dPic.attachments.map((a) => [a.filename, a.contentType])).toEqual([['incident.png', 'image/png']]);
    expect(dPic.attachments[0]!.data.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);

    expect(tgPictures().filter((m) => m.caption?.includes(`incident ${incident1}`))).toHaveLength(1);
    expect(tgPictures().some((m) => /host_unreachable/.test(m.caption ?? ''))).toBe(false);
  });

  it('alerts never changed the host, and stayed within Telegram\'s 20 messages a minute for the group', async () => {
    expect((await ran()).some((c) => MUTATING.test(c))).toBe(false);
    // Every call into the group went through at the first try (no 429 from pacing gone wrong).
    expect(tg.calls().filter((c) => Number(c.params.chat_id) === TG_GROUP && c.status !== 200)).toEqual([]);
    const times = tgGroupCalls().map((c) => c.at);
    const worstMinute = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 60_000).length));
    expect(worstMinute).toBeLessThanOrEqual(20);
  });
});
// ALERTS_DEBUG=1 prints what went into the Telegram group (with seconds from the first call) and the Discord channel.
afterAll(() => {
  if (!process.env.ALERTS_DEBUG || !tg) return;
  const calls = tg.calls().filter((c) => Number(c.params.chat_id) === TG_GROUP);
  const t0 = calls[0]?.at ?? 0;
  for (const c of calls) console.log(((c.at - t0) / 1000).toFixed(1), c.status, c.method, c.params.message_id ?? '', String(c.params.text ?? '').split('\n')[0]);
  for (const m of dMessages()) console.log('D', m.id, m.edits, dTitle(m));
});
