/**
 * The gate in front of the fix worker. A fix job is run only when its signature (HMAC with
 * CLAWMEDIC_JOB_KEY, bound to the job id) verifies, its host is in the current inventory and its
 * stored plan validates; the scripts are then rendered from the templates and the inventory here,
 * never taken from the job. Anything else is refused and audited, and nothing reaches the host.
 */
import type { AuditLog } from '../state/audit-log.js';
import type { FixPlan } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
import { rebuildPlan, StoredPlanError } from '../openclaw/stored-plan.js';
import type { JobSigner } from '../util/job-signer.js';
import type { Logger } from '../util/logger.js';
import type { Inflight } from '../state/inflight.js';
import type { FixJobData } from './payloads.js';

/** Sign a fix job's data for `jobId`; what is signed is what BullMQ will store (JSON). */
export function sealFixJob(signer: JobSigner, jobId: string, data: Omit<FixJobData, 'sig'>): FixJobData {
  const plain = JSON.parse(JSON.stringify(data)) as Omit<FixJobData, 'sig'>;
  return { ...plain, sig: signer.sign('fix-job', jobId, plain) };
}

/** The verdict of the gate: the plan rendered for the host, or why the job is refused. */
export type FixJobCheck = { ok: true; host: HostConfig; plan: FixPlan } | { ok: false; reason: string };

/** Pure check of one job's data (no I/O). */
export function checkFixJob(signer: JobSigner, hosts: ReadonlyMap<string, HostConfig>, jobId: string, data: unknown): FixJobCheck {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return { ok: false, reason: 'job data is not an object' };
  const { sig, ...rest } = data as Partial<FixJobData>;
  if (!signer.verify('fix-job', jobId, rest, sig)) {
    return { ok: false, reason: sig === undefined ? 'job is not signed' : 'job signature does not match (edited, forged, or signed with another key)' };
  }
  const host = typeof rest.host === 'string' ? hosts.get(rest.host) : undefined;
  if (!host) return { ok: false, reason: `host ${JSON.stringify(String(rest.host).slice(0, 40))} is not in the inventory` };
  try {
    return { ok: true, host, plan: rebuildPlan(host, rest.plan) };
  } catch (err) {
    if (err instanceof StoredPlanError) return { ok: false, reason: err.message };
    throw err;
  }
}

export interface FixJobGuardDeps {
  signer: JobSigner;
  hosts: ReadonlyMap<string, HostConfig>;
  audit: AuditLog;
  logger: Logger;
  /** Frees the host's "fix running" claim when the refused job held it (a job signed before a key change). */
  inflight?: Pick<Inflight, 'release'>;
}

/**
 * Check a job at the top of the fix worker; a refusal is audited (event "refused") and logged.
 * The job's actor and chat are not trusted for a refused job: no message goes to that chat.
 */
export async function guardFixJob(deps: FixJobGuardDeps, jobId: string, data: unknown): Promise<FixJobCheck> {
  const check = checkFixJob(deps.signer, deps.hosts, jobId, data);
  if (!check.ok) {
    const claimed = (data ?? {}) as Partial<FixJobData>;
    const host = typeof claimed.host === 'string' && deps.hosts.has(claimed.host) ? claimed.host : undefined;
    await deps.audit.record({ event: 'refused', action: 'fix', host, jobId, detail: `fix job refused, nothing was run: ${check.reason}` });
    deps.logger.error({ jobId, host, reason: check.reason }, 'refused a fix job');
    if (host) await deps.inflight?.release('fix', host, jobId);
  }
  return check;
}
