/**
 * The form of a fix plan that is stored (button state) and queued (fix job data): the cause, the
 * step kinds and their validated parameters, never a script. Whoever runs it rebuilds every
 * script with renderStep from the CURRENT inventory, so editing stored data cannot make a host
 * run a command of its own; a step whose parameters fail validation is refused, not run.
 */
import { z } from 'zod';
import { HOST_NAME_PATTERN } from '../constants.js';
import { CAUSES, FIX_STEP_KINDS, type FixPlan } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
import { PROCESS_NAME_RE, renderStep } from './step-catalog.js';
import { PLUGIN_ID_RE, TemplateError } from './templates.js';

/** More steps than any runbook has; a longer stored plan is refused. */
const MAX_STORED_STEPS = 16;

const stepParamsSchema = z
  .object({
    pluginId: z.string().regex(PLUGIN_ID_RE).optional(),
    // Above 1 (never init) and below Linux's pid_max ceiling (2^22).
    pid: z.number().int().min(2).max(2 ** 22 - 1).optional(),
    processName: z.string().regex(PROCESS_NAME_RE).optional(),
    waitSec: z.number().int().min(5).max(900).optional(),
    continueOnError: z.boolean().optional(),
  })
  .strict();

const storedStepSchema = z.object({ kind: z.enum(FIX_STEP_KINDS), params: stepParamsSchema.optional() }).strict();

/** zod schema of a stored plan: strict at every level, so a `script` (or any unknown field) is refused. */
export const storedPlanSchema = z
  .object({
    host: z.string().regex(HOST_NAME_PATTERN),
    cause: z.enum(CAUSES),
    steps: z.array(storedStepSchema).max(MAX_STORED_STEPS),
    userActions: z.array(z.string().max(1000)).max(20),
    disruptive: z.boolean(),
    verifyWindowSec: z.number().min(0).max(86_400),
  })
  .strict();

/** A plan as stored or queued: kinds and parameters only. */
export type StoredPlan = z.infer<typeof storedPlanSchema>;

/** A stored plan that cannot be run as it is: malformed, for another host, or with parameters out of bounds. */
export class StoredPlanError extends Error {
  constructor(
    message: string,
    /** The host the plan was to run on. */
    readonly host: string,
    /** Index of the refused step, when a step was refused. */
    readonly step?: number,
  ) {
    super(message);
    this.name = 'StoredPlanError';
  }
}

/** Strip a rendered plan to what may be stored: no scripts, descriptions or deadlines. */
export function toStoredPlan(plan: FixPlan | StoredPlan): StoredPlan {
  return {
    host: plan.host,
    cause: plan.cause,
    steps: plan.steps.map((s) => (s.params && Object.keys(s.params).length ? { kind: s.kind, params: { ...s.params } } : { kind: s.kind })),
    userActions: [...plan.userActions],
    disruptive: plan.disruptive,
    verifyWindowSec: plan.verifyWindowSec,
  };
}

/**
 * Validate stored data and render every step for `host` from the templates and the current inventory.
 * Throws StoredPlanError naming what was refused (the zod path or the step).
 */
export function rebuildPlan(host: HostConfig, stored: unknown): FixPlan {
  const parsed = storedPlanSchema.safeParse(stored);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new StoredPlanError(`stored plan refused at ${issue.path.join('.') || '(root)'}: ${issue.message}`, host.name);
  }
  const plan = parsed.data;
  if (plan.host !== host.name) throw new StoredPlanError(`stored plan is for host "${plan.host}", not "${host.name}"`, host.name);
  const steps = plan.steps.map((s, i) => {
    try {
      return renderStep(host, s.kind, s.params ?? {});
    } catch (err) {
      if (err instanceof TemplateError) throw new StoredPlanError(`stored plan refused at steps.${i} (${s.kind}): ${err.message}`, host.name, i);
      throw err;
    }
  });
  return { ...plan, steps };
}
