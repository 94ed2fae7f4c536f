/**
 * Replies for job results: status, verdict, fix plan, progress and outcome. Every string
 * passes through redact() here, the last stop before a chat.
 */
import type { FixOutcome, FixPlan, Verdict } from '../domain/diagnosis.js';
import type { Reply, ReplyButton, ReplyTone } from '../domain/types.js';
import type { HostStatus } from '../jobs/host-ops.js';
import { redact } from '../util/redact.js';
import { DOCTOR_BACKUP_MARK, DOCTOR_CHANGED_MARK } from '../openclaw/templates.js';

const CONFIDENCE_WORD = { high: 'high confidence', medium: 'medium confidence', low: 'low confidence' } as const;

/** "1.2 s" / "350 ms". */
export function formatDuration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

function clean(text: string): string {
  return redact(text);
}

/** /status: one field per host, summary first. */
export function renderStatus(statuses: HostStatus[], footer: string): Reply {
  const down = statuses.filter((s) => !s.reachable || !s.probeOk);
  const title =
    statuses.length === 1
      ? `${statuses[0]!.host}: ${statusWord(statuses[0]!)}`
      : down.length === 0
        ? `All ${statuses.length} hosts OK`
        : `${down.length} of ${statuses.length} hosts need attention: ${down.map((s) => s.host).join(', ')}`;
  return {
    title,
    // A gateway that does not answer its probe is an outage for every client: error, not a warning.
    tone: down.length === 0 ? 'ok' : 'error',
    fields: statuses.map((s) => ({
      name: `${s.host}: ${statusWord(s)}`,
      value: clean(
        [
          s.error,
          s.version ? `OpenClaw ${s.version}` : undefined,
          s.listening ? `listening ${s.listening}` : s.reachable ? 'nothing listening on the gateway port' : undefined,
          s.probeError ? `probe: ${probeErrorText(s.probeError)}` : undefined,
          s.memoryUsedPct !== undefined ? `memory ${s.memoryUsedPct}% used` : undefined,
          `checked in ${formatDuration(s.durationMs)}`,
        ]
          .filter(Boolean)
          .join('\n'),
      ),
    })),
    footer,
  };
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
  return s.listening ? 'GATEWAY REJECTING' : 'GATEWAY DOWN';
}

function toneOf(verdict: Verdict): ReplyTone {
  const head = verdict.findings[0];
  if (!head || head.cause === 'healthy') return 'ok';
  if (head.cause === 'unknown') return 'warn';
  return verdict.probeOk ? 'warn' : 'error';
}

/** Headline like "prod: token mismatch (high confidence)". */
export function verdictTitle(verdict: Verdict): string {
  const head = verdict.findings[0];
  if (!head) return `${verdict.host}: no verdict`;
  if (head.cause === 'healthy') return `${verdict.host}: healthy`;
  return `${verdict.host}: ${head.cause.replace(/_/g, ' ')} (${CONFIDENCE_WORD[head.confidence]})`;
}

/** /diagnose result: headline, summary, evidence per finding, user actions, Fix/Diagnose buttons. */
export function renderVerdict(verdict: Verdict, footer: string, buttons: ReplyButton[] = []): Reply {
  const head = verdict.findings[0];
  const body: string[] = [];
  if (head) body.push(clean(head.summary));
  if (head?.userActions.length) body.push(`What you can do:\n${head.userActions.map((a) => `- ${clean(a)}`).join('\n')}`);
  if (verdict.gaps.length) body.push(`Could not check: ${clean(verdict.gaps.join('; '))}`);
  return {
    title: verdictTitle(verdict),
    tone: toneOf(verdict),
    body,
    // The headline shows its evidence; "Also" lines show each finding's summary (and whether it is over).
    fields: verdict.findings.slice(0, 6).map((f, i) => ({
      name: `${i === 0 ? 'Cause' : 'Also'}: ${f.cause.replace(/_/g, ' ')} (${f.confidence}${f.supersededBy ? ', over' : f.current === false ? ', earlier' : ''})`,
      value: clean(i === 0 ? f.evidence.slice(0, 5).join('\n') || f.summary : f.summary).slice(0, 1000),
    })),
    detail: verdict.findings.flatMap((f) => f.evidence.map((e) => `[${f.cause}] ${clean(e)}`)).join('\n') || undefined,
    buttons,
    footer: `${footer}${verdict.openclawVersion ? ` · OpenClaw ${verdict.openclawVersion}` : ''}`,
  };
}

/** The /fix confirmation: verdict, the exact plan, Confirm/Cancel. */
export function renderPlan(verdict: Verdict, plan: FixPlan, footer: string, buttons: ReplyButton[]): Reply {
  const base = renderVerdict({ ...verdict, findings: verdict.findings.map((f, i) => (i === 0 ? { ...f, userActions: [] } : f)) }, footer);
  const body = [...(base.body ?? [])];
  const head = verdict.findings[0];
  if (plan.steps.length === 0 && (!head || head.cause === 'healthy')) {
    body.push('The gateway is healthy: there is nothing to fix.');
  } else if (plan.steps.length === 0) {
    body.push(
      plan.userActions.length
        ? 'clawmedic has no host step for this: what fixes it is on your side (below).'
        : 'clawmedic has no host step for this cause; see the evidence above.',
    );
  } else {
    body.push(`Planned fix (${plan.disruptive ? 'interrupts the gateway briefly' : 'no restart'}):\n${plan.steps.map((s, i) => `${i + 1}. ${clean(s.description)}`).join('\n')}`);
    body.push(`Then verify: probe the gateway and watch the log for ${plan.verifyWindowSec} s.`);
  }
  // The finding's and the plan's user actions, each once.
  const actions = [...new Set([...(verdict.findings[0]?.userActions ?? []), ...plan.userActions])];
  if (actions.length) body.push(`On your side:\n${actions.map((a) => `- ${clean(a)}`).join('\n')}`);
  return { ...base, title: `${base.title}${plan.steps.length ? ' — confirm the fix?' : ''}`, body, buttons };
}

/** Progress while a fix runs (edits the same message). */
export function renderProgress(host: string, plan: FixPlan, done: number, current: string | undefined, footer: string): Reply {
  return {
    title: `${host}: fixing ${plan.cause.replace(/_/g, ' ')} — step ${Math.min(done + 1, plan.steps.length)}/${plan.steps.length}`,
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
    .filter((s) => s.kind === 'doctor_fix')
    .flatMap((s) => s.output.split('\n'))
    .filter((l) => l.startsWith(DOCTOR_CHANGED_MARK) || l.startsWith(DOCTOR_BACKUP_MARK))
    .map((l) => l.replace(/^clawmedic: /, ''));
  return {
    title: `${outcome.host}: ${word} (${outcome.cause.replace(/_/g, ' ')})`,
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
