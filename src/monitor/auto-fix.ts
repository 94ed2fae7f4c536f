/**
 * The auto-fix policy of a host with `autoFix: true`: for a firing incident of a safe cause, diagnose,
 * plan, and queue the same fix job a confirmed /fix queues (through the router's limits) — at most
 * `maxPerHour` times per host per hour (config fix.autoFixMaxPerHour), counted by the one fix-attempts counter
 * (state/fix-attempts.ts, its auto-fix key); past that it escalates to the admins and stops.
 */
import type { FixPlan, Verdict } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
import type { HostOps } from '../domain/host-ops.js';
import type { Incident } from '../domain/incident.js';
import type { AuditLog } from '../state/audit-log.js';
import type { FixAttempts } from '../state/fix-attempts.js';
import type { AlertSender } from '../alerts/alert-sender.js';
import { AUTO_FIXABLE_CAUSES } from '../constants.js';

/** What a host monitor calls for a firing incident; `note` adds a line to the incident's "tried" list. */
export type AutoFix = (inc: Incident, note: (what: string) => void) => Promise<void>;

export interface AutoFixDeps {
  hosts: ReadonlyMap<string, HostConfig>;
  ops: Pick<HostOps, 'diagnose' | 'plan'>;
  /** The auto-fixes of the last hour ({@link FixAttempts.autoFixes}). */
  attempts: Pick<FixAttempts, 'count' | 'record'>;
  sender: Pick<AlertSender, 'escalate'>;
  audit: Pick<AuditLog, 'record'>;
  /** Auto-fixes per host per hour before it escalates and stops (config fix.autoFixMaxPerHour). */
  maxPerHour: number;
  /** Queue the fix (host is the inventory name). */
  enqueueFix(host: string, plan: FixPlan, verdict: Verdict): Promise<void>;
}

export function createAutoFix(deps: AutoFixDeps): AutoFix {
  const max = deps.maxPerHour;
  return async (inc, note) => {
    const host = deps.hosts.get(inc.host);
    if (!host || !AUTO_FIXABLE_CAUSES.has(inc.cause)) return;
    const now = Date.now();
    const used = await deps.attempts.count(host.name, now);
    if (used >= max) {
      note(`auto-fix stopped: ${used} auto-fixes in the last hour (limit ${max})`);
      await deps.sender.escalate(inc, `Auto-fix ran ${used} times in the last hour and ${inc.host} is still failing; it stops here.`);
      await deps.audit.record({ event: 'escalated', action: 'autofix', host: host.name, detail: `${used} auto-fixes in the last hour` });
      return;
    }
    const verdict = await deps.ops.diagnose(host);
    const head = verdict.findings[0];
    if (!head || !AUTO_FIXABLE_CAUSES.has(head.cause)) {
      note(`auto-fix skipped: diagnose says ${head?.cause ?? 'nothing'} (no safe automatic fix)`);
      return;
    }
    const plan = deps.ops.plan(host, verdict);
    if (plan.steps.length === 0) {
      note('auto-fix skipped: nothing on the host can fix it');
      return;
    }
    // One entry per firing of the incident: a retried tick does not count twice.
    await deps.attempts.record(host.name, `${inc.id}:${inc.fireCount}`, now);
    await deps.enqueueFix(host.name, plan, verdict);
    await deps.audit.record({ event: 'allowed', action: 'autofix', host: host.name, detail: `cause ${plan.cause}; steps ${plan.steps.map((s) => s.kind).join(',')}` });
    note(`auto-fix queued at ${new Date(now).toISOString().slice(11, 16)} UTC: ${plan.steps.map((s) => s.kind).join(', ')}`);
  };
}
