/**
 * Incident → platform-neutral Reply: the alert message (edited in place), reminders, the recovery
 * notice, the "back again / flapping" notice, escalations and the "blind" notice. Pure functions.
 */
import type { Cause } from '../domain/diagnosis.js';
import type { Reply, ReplyButton } from '../domain/types.js';
import type { Incident } from '../monitor/incident-machine.js';

/** Plain-language name of each cause, as the alert title shows it. */
export const CAUSE_LABELS: Record<Cause, string> = {
  token_mismatch: 'clients present a wrong gateway token (4008 connect failed)',
  device_token_mismatch: 'a paired device presents an old device token (4008)',
  stale_client: 'one browser tab keeps using an old gateway token (4008 connect failed)',
  token_rotated: 'gateway token was rotated; clients still use the old one (4008)',
  config_autorestored: 'config auto-restored from a backup with another token (4008)',
  gateway_down: 'gateway is down',
  crash_loop: 'gateway keeps crashing',
  out_of_memory: 'gateway ran out of memory',
  memory_pressure: 'memory nearly full',
  plugin_failure: 'a plugin fails to load',
  port_conflict: 'another program holds the gateway port',
  second_gateway: 'a second gateway was started',
  proxy_blocks_websocket: 'proxy/firewall blocks WebSocket upgrades',
  dns_unresolved: "the gateway's name does not resolve (DNS)",
  gateway_url_mismatch: 'gateway URL/profile mismatch',
  origin_not_allowed: 'Control UI origin not allowed (4008)',
  gateway_mode_unset: 'gateway.mode is not set',
  rate_limited: 'auth rate limit hit (clients locked out)',
  insecure_context: 'Control UI opened over plain HTTP (4008)',
  telegram_conflict: "OpenClaw's Telegram bot is polled twice (409)",
  host_unreachable: 'host unreachable over SSH',
  healthy: 'healthy',
  unknown: 'clients fail to connect (4008), reason not logged',
};

/** What the reader should do first, per cause (short; /diagnose gives the full story). */
const NEXT_STEP: Partial<Record<Cause, string>> = {
  stale_client: 'No restart needed: reopen the dashboard with a fresh link (Fix sends one privately) or clear the site data.',
  token_mismatch: 'Give the clients the current token (fresh dashboard link); check for a stale --token override. Diagnose for details.',
  token_rotated: 'Reopen the dashboard with the new token (fresh link); remote CLIs need gateway.remote.token updated.',
  config_autorestored: 'The restored backup carries another token: hand out a fresh dashboard link, check openclaw.json.',
  device_token_mismatch: 'Re-pair the device or rotate its device token.',
  rate_limited: 'Stop the client sending the wrong token and wait 5 minutes.',
  gateway_down: 'Diagnose names why; Fix restarts it the way this host supervises it.',
  host_unreachable: 'Check the server and its SSH daemon; gateway alerts for this host are held meanwhile.',
};

function when(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Tokens of the four alert buttons for one chat (issued by the sender). */
export interface AlertButtonTokens {
  diagnose: string;
  fix: string;
  ack: string;
  mute: string;
}

function buttons(t: AlertButtonTokens | undefined, inc: Incident, muteLabel: string): ReplyButton[] | undefined {
  if (!t) return undefined;
  const out: ReplyButton[] = [
    { label: 'Diagnose', action: 'diagnose', token: t.diagnose, style: 'primary' },
    { label: 'Fix', action: 'fix', token: t.fix, style: 'danger' },
  ];
  if (!inc.ackedBy) out.push({ label: 'Ack', action: 'ack', token: t.ack, style: 'secondary' });
  out.push({ label: `Mute ${muteLabel}`, action: 'mute', token: t.mute, style: 'secondary' });
  return out;
}

function counts(inc: Incident): string {
  const clients = inc.clients.length ? `, ${inc.clients.length} client${inc.clients.length === 1 ? '' : 's'}` : '';
  return `${inc.count} event${inc.count === 1 ? '' : 's'}${clients}`;
}

/** The alert message of an incident, in whatever phase it is (edited in place as it changes). */
export function renderAlert(inc: Incident, now: number, opts: { tokens?: AlertButtonTokens; muteLabel?: string } = {}): Reply {
  const label = CAUSE_LABELS[inc.cause] ?? inc.cause;
  const state =
    inc.phase === 'resolved'
      ? 'RESOLVED'
      : inc.flapping
        ? 'FLAPPING'
        : inc.ackedBy
          ? 'ACKED'
          : 'ALERT';
  const fields = [
    { name: 'Host', value: inc.host, inline: true },
    { name: 'Cause', value: inc.cause, inline: true },
    { name: 'State', value: state.toLowerCase() + (inc.flapping ? ` (fired ${inc.fireCount}×)` : ''), inline: true },
    { name: 'First event', value: when(inc.firstEventAt), inline: true },
    { name: 'Last event', value: when(inc.lastEventAt), inline: true },
    { name: 'Count', value: counts(inc), inline: true },
  ];
  if (inc.ackedBy) fields.push({ name: 'Acked by', value: `${inc.ackedBy} at ${when(inc.ackedAt)}`, inline: false });
  if (inc.tried.length) fields.push({ name: 'Tried', value: inc.tried.join('\n'), inline: false });
  if (inc.phase === 'resolved') fields.push({ name: 'Resolved', value: `${when(inc.resolvedAt)} (open ${duration((inc.resolvedAt ?? now) - (inc.firedAt ?? inc.openedAt))})`, inline: false });
  const body: string[] = [];
  if (inc.phase !== 'resolved') {
    const next = NEXT_STEP[inc.cause];
    if (next) body.push(next);
  }
  return {
    title: `${state}: ${inc.host}: ${label}`,
    tone: inc.phase === 'resolved' ? 'ok' : inc.ackedBy ? 'warn' : 'error',
    body: body.length ? body : undefined,
    fields,
    detail: inc.evidence.length ? inc.evidence.join('\n') : undefined,
    buttons: inc.phase === 'firing' ? buttons(opts.tokens, inc, opts.muteLabel ?? '1h') : undefined,
    footer: `incident ${inc.id}`,
  };
}

/** A reminder: still firing, with the current cause and what was tried. */
export function renderReminder(inc: Incident, now: number, tokens?: AlertButtonTokens): Reply {
  const tried = inc.tried.length ? `Tried: ${inc.tried.join('; ')}.` : 'Nothing was tried yet.';
  return {
    title: `Still firing for ${duration(now - (inc.firedAt ?? inc.openedAt))}: ${inc.host}: ${CAUSE_LABELS[inc.cause] ?? inc.cause}`,
    tone: 'warn',
    body: [`${counts(inc)}; last event ${when(inc.lastEventAt)}.`, tried, 'Ack stops these reminders.'],
    buttons: tokens ? buttons(tokens, inc, '1h') : undefined,
    footer: `incident ${inc.id} · reminder ${inc.reminders + 1}`,
  };
}

/** The recovery notice (always sent for an incident that was announced, acked or not). */
export function renderRecovery(inc: Incident, now: number): Reply {
  return {
    title: `Recovered: ${inc.host}: ${CAUSE_LABELS[inc.cause] ?? inc.cause}`,
    tone: 'ok',
    body: [
      `No new event for ${duration(now - inc.lastEventAt)} and the gateway probe answers. ` +
        `Open for ${duration(now - (inc.firedAt ?? inc.openedAt))}; ${counts(inc)}.` +
        (inc.ackedBy ? ` Acked by ${inc.ackedBy}.` : ''),
    ],
    footer: `incident ${inc.id}`,
  };
}

/** Sent when a resolved incident fires again: the alert above is edited, this says so. */
export function renderFlapNotice(inc: Incident): Reply {
  return {
    title: `Back again (flapping, fired ${inc.fireCount}×): ${inc.host}: ${CAUSE_LABELS[inc.cause] ?? inc.cause}`,
    tone: 'error',
    body: ['The alert message above is updated in place; it resolves once the host stays quiet for longer.'],
    footer: `incident ${inc.id}`,
  };
}

/** Auto-fix stopped by its circuit breaker: a person must look. */
export function renderEscalation(inc: Incident, reason: string, admins: string[]): Reply {
  return {
    title: `Needs a person: ${inc.host}: ${CAUSE_LABELS[inc.cause] ?? inc.cause}`,
    tone: 'error',
    body: [reason, admins.length ? `Admins: ${admins.join(', ')}` : 'No admin is configured.'],
    footer: `incident ${inc.id}`,
  };
}

/** clawmedic cannot see (its Redis or its own network): it says so instead of reporting hosts down. */
export function renderBlind(reason: string, since: number): Reply {
  return {
    title: 'clawmedic is blind: not reporting hosts down',
    tone: 'warn',
    body: [`${reason} (since ${when(since)}). Host alerts resume once it can see again.`],
  };
}
