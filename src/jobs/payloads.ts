/**
 * Job payloads carried by BullMQ. Plain JSON; no functions, no secret in plain text: a tokenized
 * dashboard link is produced inside the fix worker and queued for its private delivery only sealed
 * (NotifyJobData.sealedSecret, AES-256-GCM, key not in Redis) and for minutes (notifier.ts).
 */
import type { Verdict } from '../domain/diagnosis.js';
import type { StoredPlan } from '../openclaw/stored-plan.js';
import type { Delivery, JobOrigin } from '../domain/types.js';

/** Job names in the diagnose queue. */
export const HOST_JOB = {
  /** Quick read-only check of one or more hosts (gateway status + memory). */
  status: 'status',
  /** Full evidence pass and verdict. */
  diagnose: 'diagnose',
  /** Evidence pass, verdict and a fix plan offered for confirmation (what /fix does first). */
  plan: 'plan',
} as const;
export type HostJobName = (typeof HOST_JOB)[keyof typeof HOST_JOB];

export interface HostJobData extends JobOrigin {
  /** One host for diagnose/plan; one or more for status (a fleet summary). */
  hosts: string[];
}

export interface FixJobData extends JobOrigin {
  host: string;
  /** The plan the user confirmed, as kinds and parameters: the worker renders the scripts from the inventory. */
  plan: StoredPlan;
  /** The verdict the plan came from, to compare with after the fix. */
  before?: Verdict;
  /** HMAC of the rest (CLAWMEDIC_JOB_KEY, bound to the job id): a job without a valid one is refused. */
  sig: string;
}

/**
 * What the notify queues carry: one Delivery, its place in its messageKey's order, when it expires,
 * and its reply's secret sealed (the reply itself carries none when queued). Same shape as SequencedDelivery.
 */
export type NotifyJobData = Delivery & { seq?: number; expiresAt?: number; sealedSecret?: string };
