/**
 * Incident → platform-neutral Reply: the alert message (edited in place), reminders, the recovery
 * notice, the "back again / flapping" notice, escalations and the "blind" notice. Pure functions.
 */
import type { Cause } from '../domain/diagnosis.js';
import type { Reply, ReplyButton } from '../domain/types.js';
import type { Incident } from '../domain/incident.js';
import { ALERT_NEXT_STEP, CAUSE_LABELS } from '../render/cause-words.js';
import { hostPicture } from './picture-ref.js';

/** Cause wording lives in one place (src/render/cause-words.ts); re-exported for the monitor. */
export { CAUSE_LABELS };
const NEXT_STEP = ALERT_NEXT_STEP;

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
  // A used Ack or Mute is gone; while muted, reminders are held anyway, so Ack goes too.
  if (inc.mutedBy) return out;
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
        : inc.mutedBy
          ? 'MUTED'
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
  if (inc.mutedBy && inc.phase === 'firing') {
    fields.push({ name: 'Muted by', value: `${inc.mutedBy} until ${when(inc.mutedUntil)}`, inline: false });
  }
  if (inc.tried.length) fields.push({ name: 'Tried', value: inc.tried.join('\n'), inline: false });
  if (inc.phase === 'resolved') fields.push({ name: 'Resolved', value: `${when(inc.resolvedAt)} (open ${duration((inc.resolvedAt ?? now) - (inc.firedAt ?? inc.openedAt))})`, inline: false });
  const body: string[] = [];
  if (inc.phase !== 'resolved') {
    const next = NEXT_STEP[inc.cause];
    if (next) body.push(next);
  }
  return {
    title: `${state}: ${inc.host}: ${label}`,
    tone: inc.phase === 'resolved' ? 'ok' : inc.ackedBy || inc.mutedBy ? 'warn' : 'error',
    body: body.length ? body : undefined,
    fields,
    evidence: inc.evidence.length ? { label: 'Evidence', lines: inc.evidence } : undefined,
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

/** File name of the incident picture as chats show it. */
export const PICTURE_FILE_NAME = 'incident.png';

/**
 * The picture message of an incident, sent once after the alert as a reply to it: the host's recent
 * hours (refusals by cause, memory, restarts, fixes) with the alert's window shaded. Its caption is short;
 * the alert above carries the words.
 */
export function renderPictureMessage(inc: Incident): Reply {
  const ref = hostPicture(inc.host, inc.id);
  return {
    title: `${inc.host}, the last ${ref.hours} h: refusals per minute by cause, memory, restarts and fixes`,
    tone: 'info',
    body: ['The shaded part is this alert.'],
    footer: `incident ${inc.id}`,
    image: { name: PICTURE_FILE_NAME, alt: `Refusals per minute by cause, host memory and gateway RSS of ${inc.host} over the last ${ref.hours} hours`, ref },
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
