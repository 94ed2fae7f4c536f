/**
 * Replies for job results: status, verdict, fix plan, progress and outcome. Every string
 * passes through redact() here, the last stop before a chat.
 */
import { humanDuration } from '../util/human-duration.js';
import type { Cause, FixOutcome, FixPlan, Verdict } from '../domain/diagnosis.js';
import type { Reply, ReplyButton, ReplyTone } from '../domain/types.js';
import type { HostStatus } from '../domain/host-ops.js';
import { redact } from '../util/redact.js';
import { DOCTOR_BACKUP_MARK, DOCTOR_CHANGED_MARK } from '../openclaw/templates.js';
import { isDoctorStep } from '../openclaw/step-catalog.js';
import { CAUSE_SHORT, summaryLine } from './cause-words.js';


/** "1.2 s" / "350 ms". */
export function formatDuration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

function clean(text: string): string {
  return redact(text);
}

/** An alert the monitor holds open for a host, as /status mentions it. */
export interface OpenAlert {
  cause: Cause;
  /** When it fired (epoch ms). */
  since: number;
  acked?: boolean;
}

/** "07:41 UTC" */
function clock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`;
}

/** "1 open alert: stale tab since 07:41 UTC" / "2 open alerts: …, …" */
export function openAlertsText(alerts: OpenAlert[]): string {
  const each = alerts.map((a) => `${CAUSE_SHORT[a.cause]} since ${clock(a.since)}${a.acked ? ' (acked)' : ''}`);
  return `${alerts.length} open alert${alerts.length === 1 ? '' : 's'}: ${each.join(', ')}`;
}

/**
 * /status: the summary first; one field per host when several, one detail line when one. An open
 * alert is named next to the probe result, so "gateway OK" never contradicts the alert in the same chat.
 */
export function renderStatus(statuses: HostStatus[], footer: string, openAlerts: Record<string, OpenAlert[]> = {}): Reply {
  const down = statuses.filter((s) => !s.reachable || !s.probeOk);
  const alerting = statuses.filter((s) => (openAlerts[s.host]?.length ?? 0) > 0);
  const word = (s: HostStatus): string => {
    const alerts = openAlerts[s.host] ?? [];
    const w = statusWord(s);
    return alerts.length ? `${w === 'OK' ? 'gateway OK' : w} · ${openAlertsText(alerts)}` : w;
  };
  const title =
    statuses.length === 1
      ? `${statuses[0]!.host}: ${word(statuses[0]!)}`
      : down.length === 0
        ? `All ${statuses.length} hosts OK${alerting.length ? ` · open alerts on ${alerting.map((s) => s.host).join(', ')}` : ''}`
        : `${down.length} of ${statuses.length} hosts need attention: ${down.map((s) => s.host).join(', ')}`;
  const reply: Reply = {
    title,
    // A gateway that does not answer its probe is an outage for every client: error, not a warning;
    // an open alert on a gateway that answers is a warning, not a green tick.
    tone: down.length > 0 ? 'error' : alerting.length > 0 ? 'warn' : 'ok',
    footer,
  };
  // One host: its title already says "prod: OK", so the details follow as one line, not a field repeating it.
  if (statuses.length === 1) reply.body = [statusDetails(statuses[0]!, ' · ')];
  else reply.fields = statuses.map((s) => ({ name: `${s.host}: ${word(s)}`, value: statusDetails(s, '\n') }));
  return reply;
}

function statusDetails(s: HostStatus, sep: string): string {
  return clean(
    [
      s.error,
      s.version ? `OpenClaw ${s.version}` : undefined,
      s.listening ? `listening ${s.listening}` : s.reachable ? 'nothing listening on the gateway port' : undefined,
      s.probeError ? `probe: ${probeErrorText(s.probeError)}` : undefined,
      s.gatewayRssMb !== undefined ? `gateway ${Math.round(s.gatewayRssMb)} MB RSS` : undefined,
      s.memoryUsedPct !== undefined ? `memory ${s.memoryUsedPct}% used` : undefined,
      s.probe === 'cli' ? `probe: OpenClaw CLI${s.fallbackReason ? ` (${s.fallbackReason})` : ''}` : s.probe === 'healthz' ? 'probe: /healthz' : undefined,
      `checked in ${formatDuration(s.durationMs)}`,
    ]
      .filter(Boolean)
      .join(sep),
  );
}

/**
 * A probe error as one short line: a foreign program on the gateway port answers the WebSocket
 * upgrade with its own HTTP body (a whole HTML page); that body never reaches the chat.
 */
export function probeErrorText(err: string): string {
  const first = err.split('\n')[0]!;
  const cut = first.replace(/\s*[:(]?\s*<[!a-zA-Z][\s\S]*$/, '').replace(/<[^>]*>?/g, ' ').replace(/\s+/g, ' ').trim();
  const body = cut.length < first.trim().length ? ' (its HTTP body not shown: not the gateway)' : '';
  return `${cut.length > 160 ? `${cut.slice(0, 159)}…` : cut}${body}`;
}

function statusWord(s: HostStatus): string {
  if (!s.reachable) return 'UNREACHABLE';
  if (s.probeOk) return 'OK';
  if (s.portConflict) return 'PORT TAKEN BY ANOTHER PROGRAM';
  return s.listening ? 'GATEWAY REJECTING' : 'GATEWAY DOWN';
}

function toneOf(verdict: Verdict): ReplyTone {
  const head = verdict.findings[0];
  if (!head || head.cause === 'healthy') return 'ok';
  if (head.cause === 'unknown') return 'warn';
  return verdict.probeOk ? 'warn' : 'error';
}

/** The one summary line: "prod: stale tab (high confidence) — reopen the dashboard with a fresh link; no restart". */
export function verdictTitle(verdict: Verdict): string {
  const head = verdict.findings[0];
  if (!head) return `${verdict.host}: no verdict`;
  return summaryLine(verdict.host, head.cause, head.confidence);
}

/** Every finding's evidence, headline first, each line once (the renderers fold it). */
function verdictEvidence(verdict: Verdict): Reply['evidence'] {
  const lines = verdict.findings.flatMap((f) => f.evidence);
  return lines.length ? { label: 'Evidence', lines } : undefined;
}

/**
 * The findings after the headline, one short field each: their summary, marked when the problem
 * is over (superseded by a restart) or earlier than what fails now. Their evidence is in the folded block.
 */
function alsoFields(verdict: Verdict): Reply['fields'] {
  const rest = verdict.findings.slice(1, 4).filter((f) => f.cause !== 'healthy');
  if (!rest.length) return undefined;
  return rest.map((f) => ({
    name: `Also: ${CAUSE_SHORT[f.cause]} (${f.confidence}${f.supersededBy ? ', over' : f.current === false ? ', earlier' : ''})`,
    value: clean(f.summary).slice(0, 300),
  }));
}

function bulletList(items: string[]): string {
  return items.map((a) => `• ${clean(a)}`).join('\n');
}

/**
 * /diagnose result: the summary line, the finding's one-line explanation, what you can do, and
 * the evidence once (folded by the renderers). Fix/Diagnose buttons.
 */
export function renderVerdict(verdict: Verdict, footer: string, buttons: ReplyButton[] = []): Reply {
  const head = verdict.findings[0];
  const body: string[] = [];
  if (head && head.cause !== 'healthy') body.push(clean(head.summary));
  if (head?.userActions.length) body.push(bulletList(head.userActions));
  if (verdict.gaps.length) body.push(`Could not check: ${clean(verdict.gaps.join('; '))}`);
  return {
    title: verdictTitle(verdict),
    tone: toneOf(verdict),
    body,
    fields: alsoFields(verdict),
    evidence: verdictEvidence(verdict),
    buttons,
    footer: `${footer}${verdict.openclawVersion ? ` · OpenClaw ${verdict.openclawVersion}` : ''}`,
  };
}

/** The /fix confirmation: summary, the exact plan, the user's side once (the plan's list), Confirm/Cancel. */
export function renderPlan(verdict: Verdict, plan: FixPlan, footer: string, buttons: ReplyButton[]): Reply {
  const head = verdict.findings[0];
  const body: string[] = [];
  if (head && head.cause !== 'healthy') body.push(clean(head.summary));
  if (plan.steps.length === 0 && (!head || head.cause === 'healthy')) {
    body.push('The gateway is healthy: there is nothing to fix.');
  } else if (plan.steps.length === 0) {
    body.push(
      plan.userActions.length
        ? 'clawmedic has no host step for this: what fixes it is on your side (below).'
        : 'clawmedic has no host step for this cause; see the evidence below.',
    );
  } else {
    body.push(
      `Planned fix (${plan.disruptive ? 'interrupts the gateway briefly' : 'no restart'}), then a ${plan.verifyWindowSec} s check:\n` +
        plan.steps.map((s, i) => `${i + 1}. ${clean(s.description)}`).join('\n'),
    );
  }
  // plan.userActions already holds the finding's actions plus the plan's own: one list, one wording.
  if (plan.userActions.length) body.push(`On your side:\n${bulletList(plan.userActions)}`);
  if (verdict.gaps.length) body.push(`Could not check: ${clean(verdict.gaps.join('; '))}`);
  return {
    title: `${verdictTitle(verdict)}${plan.steps.length ? ' — confirm the fix?' : ''}`,
    tone: toneOf(verdict),
    body,
    fields: alsoFields(verdict),
    evidence: verdictEvidence(verdict),
    buttons,
    footer: `${footer}${verdict.openclawVersion ? ` · OpenClaw ${verdict.openclawVersion}` : ''}`,
  };
}

/** What an unanswered /fix confirmation becomes when it expires: no buttons, nothing changed. */
export function renderConfirmExpired(host: string, ttlSec: number): Reply {
  return {
    title: `${host}: fix not confirmed within ${humanDuration(ttlSec)}; nothing was changed.`,
    tone: 'info',
    body: [`Send /fix ${host} for a fresh plan.`],
  };
}

/** Progress while a fix runs (edits the same message). */
export function renderProgress(host: string, plan: FixPlan, done: number, current: string | undefined, footer: string): Reply {
  return {
    title: `${host}: fixing ${CAUSE_SHORT[plan.cause]} — step ${Math.min(done + 1, plan.steps.length)}/${plan.steps.length}`,
    tone: 'pending',
    body: [
      plan.steps
        .map((s, i) => `${i < done ? '[done]' : i === done && current ? '[running]' : '[ ]'} ${clean(s.description)}`)
        .join('\n'),
    ],
    footer,
  };
}

/** Final fix report: what ran, how long, outcome, and what is left. */
export function renderOutcome(outcome: FixOutcome, footer: string, buttons: ReplyButton[] = []): Reply {
  const tone: ReplyTone =
    outcome.status === 'fixed' ? 'ok' : outcome.status === 'user_action_needed' ? 'warn' : 'error';
  const word = {
    fixed: 'fixed',
    not_fixed: 'NOT fixed',
    failed: 'fix failed',
    user_action_needed: 'action needed on your side',
  }[outcome.status];
  // doctor --fix may have rewritten openclaw.json: show which keys (never values) and the backup.
  const sideEffects = outcome.steps
    .filter((s) => isDoctorStep(s.kind))
    .flatMap((s) => s.output.split('\n'))
    .filter((l) => l.startsWith(DOCTOR_CHANGED_MARK) || l.startsWith(DOCTOR_BACKUP_MARK))
    .map((l) => l.replace(/^clawmedic: /, ''));
  return {
    title: `${outcome.host}: ${word} (${CAUSE_SHORT[outcome.cause]})`,
    tone,
    body: [clean(outcome.message), ...(sideEffects.length ? [clean(`Side effects of doctor --fix:\n${sideEffects.map((l) => `- ${l}`).join('\n')}`)] : [])],
    fields: outcome.steps.map((s) => ({
      name: `${s.ok ? 'ok' : 'FAILED'} ${s.kind}`,
      value: `exit ${s.exitCode ?? (s.timedOut ? 'timeout' : 'none')}, ${formatDuration(s.durationMs)}`,
      inline: true,
    })),
    detail: outcome.steps.map((s) => `$ ${s.kind}\n${clean(s.output)}`).join('\n\n').trim() || undefined,
    buttons,
    footer,
  };
}
