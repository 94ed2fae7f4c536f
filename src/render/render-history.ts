/**
 * /history <host>: what people want after an outage — fixes, diagnoses and alert handling, with
 * people's names from the config — first; routine status checks collapsed into one line.
 * `/history <host> --all` lists every audit record (names still resolved).
 */
import type { AuditRecord } from '../state/audit-log.js';
import type { Actor, Reply } from '../domain/types.js';
import { redact } from '../util/redact.js';

/** Lines shown by /history without --all. */
export const HISTORY_SHOWN = 10;
/** Records read to find them (status checks and deliveries can bury a fix under dozens of lines). */
export const HISTORY_SCAN = 200;
/** Records listed by --all. */
export const HISTORY_ALL = 40;

/** Resolves an actor to the name the config gives them ("Alice"), or "telegram:101". */
export type NameOf = (actor: Pick<Actor, 'platform' | 'userId'>) => string;

/** "11-25 07:41" (UTC). */
function stamp(at: string): string {
  return at.slice(5, 16).replace('T', ' ');
}

const isStatus = (r: AuditRecord): boolean => r.action === 'status';

/**
 * The sentence for a record that matters, or undefined for noise (job bookkeeping, deliveries,
 * allowed status checks). Fix outcomes, confirmations, diagnoses, refusals of a fix, acks and mutes.
 */
function describe(r: AuditRecord, who: string): string | undefined {
  const detail = r.detail ? redact(r.detail) : '';
  switch (r.event) {
    case 'fix_outcome':
      return `fix result: ${detail || 'finished'}`;
    case 'confirmed':
      return `${r.action === 'restore' ? 'restore' : r.action === 'bring_back' ? 'bring-back' : 'fix'} confirmed by ${who}${detail ? ` (${detail})` : ''}`;
    case 'interrupted':
      return `fix interrupted: ${detail}`;
    case 'cancelled':
      return `fix cancelled by ${who}`;
    case 'escalated':
      return `escalated to admins: ${detail}`;
    case 'alert':
      return `alert: ${detail || r.action}`;
    case 'job_succeeded':
      if (r.action === 'diagnose') return `diagnosed: ${detail}`;
      if (r.action === 'plan') return `fix checked: ${detail}`;
      return undefined;
    case 'job_failed':
      return isStatus(r) ? undefined : `${r.action} failed: ${detail}`;
    case 'allowed':
      if (r.action === 'ack') return `acked by ${who}`;
      if (r.action === 'mute') return `muted by ${who}${detail ? ` (${detail})` : ''}`;
      if (r.action === 'unmute') return `unmuted by ${who}`;
      if (r.action === 'autofix') return `auto-fix started (${detail})`;
      return undefined;
    default:
      return undefined;
  }
}

/** /history <host>: newest first. `all` lists every record instead of the important ones. */
export function renderHistory(host: string, records: AuditRecord[], nameOf: NameOf, all = false): Reply {
  if (records.length === 0) return { title: `${host}: no history yet.`, tone: 'info' };
  const who = (r: AuditRecord): string => (r.actor ? nameOf(r.actor) : 'clawmedic');
  if (all) {
    const lines = records.slice(0, HISTORY_ALL).map((r) => {
      const by = r.actor ? ` by ${who(r)}` : '';
      return `${stamp(r.at)}  ${r.event} ${r.action}${by}${r.detail ? ` — ${redact(r.detail)}` : ''}`;
    });
    return { title: `${host}: last ${lines.length} events (all)`, tone: 'info', detail: lines.join('\n') };
  }
  const lines: string[] = [];
  for (const r of records) {
    const text = describe(r, who(r));
    if (text) lines.push(`${stamp(r.at)}  ${text}`);
    if (lines.length >= HISTORY_SHOWN) break;
  }
  // Status checks: counted once, with the latest one, never listed.
  const checks = records.filter((r) => isStatus(r) && r.event === 'allowed');
  const body: string[] = [];
  if (checks.length) {
    const last = checks[0]!;
    body.push(`${checks.length} status check${checks.length === 1 ? '' : 's'} (last ${stamp(last.at)} by ${who(last)}) not listed.`);
  }
  body.push(`Everything: /history ${host} --all`);
  if (lines.length === 0) return { title: `${host}: no fixes, diagnoses or alerts recently`, tone: 'info', body };
  return { title: `${host}: ${lines.length} recent fixes, diagnoses and alerts`, tone: 'info', body, detail: lines.join('\n') };
}
