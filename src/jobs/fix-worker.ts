/**
 * Worker for the fix queue: runs a confirmed plan step by step, shows progress in place,
 * then verifies (probe + no recurrence of the cause, until it holds or the plan's window ends). Never retried: a fix may
 * have half-run. Its progress is recorded in Redis as it runs (state/fix-runs.ts), so a fix whose process
 * dies is found and closed by another process at once (fix-recovery.ts); a stalled job is failed by
 * BullMQ (maxStalledCount 0), never handed out again, and the fixstarted guard stays as a second net.
 */
import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { RedisClient } from '../state/redis.js';
import { AUTOFIX_USER_ID, DEFAULTS, DELIVERY, QUEUES } from '../constants.js';
import { HostNotInInventoryError } from '../domain/errors.js';
import type { FixOutcome, FixPlan, Verdict } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
import type { AuditLog } from '../state/audit-log.js';
import type { ButtonIssuer } from '../domain/ports.js';
import { renderOutcome, renderProgress, formatDuration } from '../render/render-results.js';
import type { Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';
import type { FixAttempts } from '../state/fix-attempts.js';
import { isDisruptive, isDoctorStep } from '../openclaw/step-catalog.js';
import { verifyWindow } from './verify-window.js';
import type { HostOps } from '../domain/host-ops.js';
import type { Inflight } from '../state/inflight.js';
import type { Notifier } from './notifier.js';
import type { FixJobData } from './payloads.js';
import type { Metrics } from '../http/metrics.js';
import { takeHostTurn } from './host-serial.js';
import { checkFixJob, guardFixJob } from './fix-job-guard.js';
import { releaseHostLockOfJob } from '../state/host-lock.js';
import type { JobSigner } from '../util/job-signer.js';
import type { FixRunStore } from '../state/fix-runs.js';
import type { ProcessOwner } from '../domain/types.js';
import type { RedisOutages } from '../state/redis-outages.js';
import type { KeySpace } from '../state/key-space.js';
import { FixMarkers } from '../state/fix-markers.js';

export interface FixWorkerDeps {
  connection: ConnectionOptions;
  redis: RedisClient;
  /** Names of the Redis keys, and BullMQ's prefix. */
  keys: KeySpace;
  hosts: Map<string, HostConfig>;
  ops: HostOps;
  notifier: Notifier;
  buttons: ButtonIssuer;
  audit: AuditLog;
  inflight: Inflight;
  fixAttempts: FixAttempts;
  logger: Logger;
  metrics?: Metrics;
  /** Verifies each job's signature (CLAWMEDIC_JOB_KEY); unsigned or edited jobs are refused. */
  signer: JobSigner;
  /** Called while a fix runs so the monitor holds alerts for the host (issue 6). */
  onFixRunning?(host: string, running: boolean): Promise<void>;
  /** Where each running fix's progress is recorded, and the process that runs it (issue 13.2). */
  runs: FixRunStore;
  owner: ProcessOwner;
  /** How long the "Restore config backup" offer stays (config jobs.confirmTtlSec); then its button goes. */
  confirmTtlSec?: number;
  /** When Redis was unreachable (restart, Sentinel failover): a fix that ran through it says so in its result. */
  outages?: Pick<RedisOutages, 'since'>;
}

/** A fix recovered by another process (it found this process dead) stops before its next step. */
class FixTakenOverError extends Error {
  constructor(
    readonly host: string,
    /** Index of the step that was not run. */
    readonly step: number,
  ) {
    super('another clawmedic process found this fix interrupted and closed it; no further step was run');
    this.name = 'FixTakenOverError';
  }
}


async function runFix(deps: FixWorkerDeps, job: Job<FixJobData, unknown, 'fix'>, plan: FixPlan): Promise<FixOutcome> {
  const started = Date.now();
  const { chat, messageKey } = job.data;
  const jobId = String(job.id);
  const host = deps.hosts.get(job.data.host);
  // Duration only: the job id stays in the audit trail and logs, not in chat.
  const footer = () => formatDuration(Date.now() - started);
  if (!host) throw new HostNotInInventoryError(job.data.host);

  // Guard against a stalled job being processed a second time: steps must not run twice.
  if (!(await new FixMarkers(deps.redis, deps.keys).claimStart(jobId))) {
    return {
      host: host.name,
      cause: plan.cause,
      status: 'failed',
      steps: [],
      message: 'This fix was interrupted (clawmedic restarted while it ran); the host state is unknown. Run /diagnose before trying again.',
    };
  }
  // The hourly limit counts disruptive fixes only (stop, start, restart, kill).
  if (plan.steps.some((s) => isDisruptive(s.kind))) await deps.fixAttempts.record(host.name, jobId);

  const { steps, failed } = await runSteps(deps, job, host, plan, footer);

  if (failed) {
    const last = steps[steps.length - 1]!;
    return { host: host.name, cause: plan.cause, status: 'failed', steps, message: `Step "${last.kind}" failed (exit ${last.exitCode ?? (last.timedOut ? 'timeout' : 'none')}); later steps were not run.` };
  }
  await deps.notifier.send({ chat, messageKey, reply: { title: `${host.name}: verifying (probe + ${plan.verifyWindowSec} s log window)…`, tone: 'pending', footer: footer() } });
  const verified = await verifyWindow(deps.ops, host, job.data.before ?? syntheticBefore(host.name, plan), plan.verifyWindowSec * 1000, started);
  return { host: host.name, cause: plan.cause, ...judge(plan, steps, verified.check), steps, after: verified.after };
}

/** What the verify step's check means for this plan: fixed, not fixed, or the user has to act. */
function judge(plan: FixPlan, steps: FixOutcome['steps'], check: VerifyCheck): Pick<FixOutcome, 'status' | 'message'> {
  if (check.status === 'user_action_needed') {
    // The host part worked; what still fails is on the user's side (a tab, a device, a lockout).
    return { status: 'user_action_needed', message: `${check.reason}\nAction needed on your side: ${check.action ?? plan.userActions[0] ?? 'see /diagnose'}` };
  }
  if (plan.steps.length === 0 || (plan.userActions.length > 0 && !check.fixed && plan.steps.every((s) => !s.mutates))) {
    return {
      status: check.fixed ? 'fixed' : 'user_action_needed',
      message: check.fixed ? check.reason : `${check.reason}\nOn your side:\n${plan.userActions.map((a) => `- ${a}`).join('\n')}`,
    };
  }
  return {
    status: check.fixed ? 'fixed' : 'not_fixed',
    message: check.fixed ? check.reason : `Not fixed: ${check.reason}. Tried: ${steps.map((s) => s.kind).join(', ') || 'nothing'}.`,
  };
}

type VerifyCheck = ReturnType<HostOps['verify']>;

/** Run the plan's steps in order (each recorded before it runs), up to the first failing one that may not be skipped. */
async function runSteps(
  deps: FixWorkerDeps,
  job: Job<FixJobData, unknown, 'fix'>,
  host: HostConfig,
  plan: FixPlan,
  footer: () => string,
): Promise<{ steps: FixOutcome['steps']; failed: boolean }> {
  const { actor, chat, messageKey } = job.data;
  const jobId = String(job.id);
  const steps: FixOutcome['steps'] = [];
  for (const [i, step] of plan.steps.entries()) {
    // Durable before the step runs: a process killed during it leaves what it was doing in Redis.
    if (!(await deps.runs.stepStarted(jobId, i))) throw new FixTakenOverError(host.name, i);
    await deps.notifier.send({ chat, messageKey, reply: renderProgress(host.name, plan, i, step.kind, footer()) });
    const result = await deps.ops.runStep(host, step);
    const ok = !result.timedOut && result.exitCode === 0 && !result.error;
    await deps.runs.stepEnded(jobId, i, ok);
    steps.push({ kind: step.kind, exitCode: result.exitCode, durationMs: result.durationMs, timedOut: result.timedOut, ok, output: redact(result.error ?? result.output).slice(-1500) });
    await deps.audit.record({
      event: 'step',
      action: step.kind,
      host: host.name,
      actor: { platform: actor.platform, userId: actor.userId },
      jobId,
      detail: `exit ${result.exitCode ?? 'none'}${result.timedOut ? ' (timed out)' : ''} in ${result.durationMs} ms`,
    });
    if (step.secretOutput && result.secret) await sendSecretLink(deps, job.data, host.name, result.secret);
    if (!ok && !step.continueOnError) return { steps, failed: true };
  }
  return { steps, failed: false };
}

/** A tokenized dashboard link: only to the requester, privately; never logged or audited. */
async function sendSecretLink(deps: FixWorkerDeps, data: FixJobData, host: string, secret: string): Promise<void> {
  await deps.notifier.send({
    chat: data.chat,
    userId: data.actor.userId,
    reply: {
      title: `${host}: fresh dashboard link (private)`,
      tone: 'info',
      body: [
        'Open this link in the browser whose tab shows "disconnected (4008)"; it carries the gateway\'s current token. Close the old tab first. Do not share it.',
      ],
      private: true,
      secret,
    },
    // The link is kept (sealed) for minutes only: if it cannot be delivered by then, say how to get another.
    secretFallback: {
      title: `${host}: fresh dashboard link not delivered`,
      tone: 'warn',
      body: [
        `The link could not be sent to you within ${Math.round(DELIVERY.secretTtlSec / 60)} minutes and was discarded (clawmedic does not keep it longer). Run /fix ${host} again for a new one.`,
      ],
      private: true,
    },
  });
}

function syntheticBefore(host: string, plan: FixPlan): Verdict {
  return {
    host,
    findings: [{ cause: plan.cause, confidence: 'medium', weight: 50, summary: plan.cause, evidence: [], userActions: plan.userActions }],
    probeOk: false,
    gaps: [],
    at: new Date().toISOString(),
  };
}

/** Start the fix worker (concurrency across hosts; one fix per host is enforced by the router's claim). */
export function startFixWorker(deps: FixWorkerDeps): Worker<FixJobData, unknown, 'fix'> {
  const ctx: WorkerState = { running: new Set(), markers: new FixMarkers(deps.redis, deps.keys) };
  const worker = new Worker<FixJobData, unknown, 'fix'>(
    QUEUES.fix,
    (job, token) => processFixJob(deps, ctx, job, token),
    {
      connection: deps.connection,
      prefix: deps.keys.prefix,
      concurrency: 4,
      // Fix steps can take minutes (doctor: 25-80 s): a long lock so a busy worker is not seen as stalled.
      lockDuration: 120_000,
      // A job that stalls (its process died, or froze past the lock) is failed, never handed out again:
      // BullMQ marks it on the first stall and the next worker that fetches it fails it without running it.
      maxStalledCount: 0,
    },
  );
  worker.on('error', (err) => deps.logger.error({ err }, 'fix worker error'));
  worker.on('failed', (job, err) => {
    if (job && err?.message === BULLMQ_STALLED_REASON) void closeStalledBeforeStart(deps, job).catch((e) => deps.logger.warn({ err: e, jobId: job.id }, 'could not close a stalled fix job'));
  });
  return worker;
}

/** What a fix worker keeps across its jobs. */
interface WorkerState {
  /** Fix jobs this worker is running now. */
  running: Set<string>;
  markers: FixMarkers;
}

/** One fix job: checked, run once, its outcome sent; the host's claims released whatever happens. */
async function processFixJob(deps: FixWorkerDeps, ctx: WorkerState, job: Job<FixJobData, unknown, 'fix'>, token: string | undefined): Promise<string> {
  const jobId = String(job.id);
  // Signature, inventory and parameters first; the scripts come from the templates, never from the job.
  const guarded = await guardFixJob(deps, jobId, job.data);
  if (!guarded.ok) return 'refused';
  const plan = guarded.plan;
  const { host, actor, chat, messageKey } = job.data;
  const who = { platform: actor.platform, userId: actor.userId };
  // The same job handed out again: its lock or its completion was lost (a Redis failover can lose the last
  // writes of the old master). Still running here, or already answered: nothing to run and nothing to say.
  if (ctx.running.has(jobId)) {
    deps.logger.warn({ jobId, host }, 'fix job handed out again while it runs here; not run twice');
    return 'duplicate';
  }
  // Marks a fix job whose outcome was sent: a copy handed out again (its completion lost in a failover) stays quiet.
  const done = await ctx.markers.outcome(jobId);
  if (done) {
    deps.logger.warn({ jobId, host, outcome: done }, 'fix job handed out again after its outcome was sent; not run twice');
    return done;
  }
  // Wait for a diagnose still running on this host (throws DelayedError: BullMQ retries it later).
  const turn = await takeHostTurn(deps.redis, deps.keys, host, job, token, 'fix', (holder) =>
    deps.notifier.send({ chat, messageKey, reply: { title: `${host}: waiting for the running ${holder?.action ?? 'job'} to finish before fixing…`, tone: 'pending' } }),
  );
  const end = deps.metrics?.jobDuration.startTimer({ type: 'fix' });
  const jobStarted = Date.now();
  let recorded = await beginRun(deps, job.data, jobId, plan, token, turn);
  await deps.audit.record({ event: 'job_started', action: 'fix', host, actor: who, jobId, detail: `cause ${plan.cause}` });
  await deps.onFixRunning?.(host, true);
  ctx.running.add(jobId);
  try {
    const outcome = await runFix(deps, job, plan);
    const away = deps.outages?.since(jobStarted);
    if (away && away.count > 0 && outcome.steps.length > 0) {
      // The chat is told that clawmedic had to wait and retry its writes; what ran on the host ran once.
      outcome.message += `\n\nRedis was unreachable for ${formatDuration(away.ms)} during this fix (restart or failover); clawmedic waited for it and went on. Each step ran once.`;
    }
    await reportOutcome(deps, job.data, plan, outcome, jobStarted);
    await deps.audit.record({ event: 'fix_outcome', action: 'fix', host, actor: who, jobId, detail: `${outcome.status}: ${outcome.message}`.slice(0, 500) });
    await ctx.markers.markDone(jobId, outcome.status);
    end?.({ outcome: outcome.status });
    return outcome.status;
  } catch (err) {
    if (err instanceof FixTakenOverError) {
      // The process that recovered it told the requester and released the host; say nothing over it.
      recorded = false;
      await deps.audit.record({ event: 'job_failed', action: 'fix', host, actor: who, jobId, detail: err.message });
      end?.({ outcome: 'failed' });
      throw err;
    }
    const message = redact(err instanceof Error ? err.message : String(err));
    await deps.notifier.send({ chat, messageKey, reply: { title: `${host}: fix failed: ${message}`, tone: 'error' } });
    await deps.audit.record({ event: 'job_failed', action: 'fix', host, actor: who, jobId, detail: message });
    end?.({ outcome: 'failed' });
    throw err;
  } finally {
    ctx.running.delete(jobId);
    await turn.release();
    if (recorded) {
      await deps.inflight.release('fix', host, jobId);
      await deps.onFixRunning?.(host, false);
      await deps.runs.end(jobId);
    }
  }
}

/** Record the run before anything happens on the host (the host's turn is given back if that fails). */
async function beginRun(
  deps: FixWorkerDeps,
  data: FixJobData,
  jobId: string,
  plan: FixPlan,
  token: string | undefined,
  turn: { release(): Promise<void> },
): Promise<boolean> {
  const { host, actor, chat, messageKey } = data;
  try {
    await deps.runs.begin({
      jobId,
      host,
      cause: plan.cause,
      owner: deps.owner,
      lockToken: token,
      origin: { actor, chat, messageKey },
      steps: plan.steps.map((s) => s.kind),
    });
    return true;
  } catch (err) {
    await turn.release();
    throw err;
  }
}

/** The outcome in place of the progress message, with the "Restore config backup" offer when doctor --fix ran and it did not help. */
async function reportOutcome(deps: FixWorkerDeps, data: FixJobData, plan: FixPlan, outcome: FixOutcome, jobStarted: number): Promise<void> {
  const { host, actor, chat, messageKey } = data;
  let buttons: import('../domain/types.js').ReplyButton[] = [];
  const ranDoctor = outcome.steps.some((s) => isDoctorStep(s.kind) && s.ok);
  const offerTtlSec = deps.confirmTtlSec ?? DEFAULTS.confirmTtlSec;
  const hostConfig = deps.hosts.get(host);
  if (outcome.status !== 'fixed' && outcome.status !== 'user_action_needed' && ranDoctor && hostConfig) {
    // doctor --fix rewrote openclaw.json (keeping a .bak): offer to put the old one back.
    const restore = deps.ops.restorePlan?.(hostConfig, plan.cause);
    if (restore) {
      const [token] = await deps.buttons.issue(
        [{ action: 'restore', host, platform: chat.platform, chatId: chat.chatId, boundUserId: actor.userId === AUTOFIX_USER_ID ? undefined : actor.userId, plan: restore }],
        offerTtlSec + DEFAULTS.confirmExpiryGraceSec,
      );
      buttons = [{ label: 'Restore config backup', action: 'restore', token: token!, style: 'danger' }];
    }
  }
  const took = formatDuration(Date.now() - jobStarted);
  await deps.notifier.send({ chat, messageKey, reply: renderOutcome(outcome, took, buttons) });
  if (buttons.length) {
    // Unanswered, the offer goes away with its button (a pressed one has already changed the message).
    const expired = renderOutcome(outcome, took);
    expired.body = [...(expired.body ?? []), 'The offer to put the config backup back has expired; nothing was restored.'];
    await deps.notifier.send({ chat, messageKey, reply: expired, retires: buttons.map((b) => b.token) }, { delayMs: offerTtlSec * 1000 });
  }
}

/** BullMQ's failedReason for a job that stalled more than maxStalledCount times (0 for fixes: once). */
const BULLMQ_STALLED_REASON = 'job stalled more than allowable limit';

/**
 * A fix job BullMQ failed because its process died: when it had recorded no step (it died between
 * being fetched and its first record), fix-recovery.ts has nothing to find, so the claim and the
 * host lock are released here and the requester is told nothing ran. A job with a record is left
 * to the recovery, which knows what ran.
 */
async function closeStalledBeforeStart(deps: FixWorkerDeps, job: Job<FixJobData, unknown, 'fix'>): Promise<void> {
  const jobId = String(job.id);
  if ((await deps.runs.get(jobId)) !== undefined || (await deps.runs.wasRecovered(jobId))) return;
  // Only a job that verifies may make us write to its chat.
  const check = checkFixJob(deps.signer, deps.hosts, jobId, job.data);
  if (!check.ok) return;
  const { host, actor, chat, messageKey } = job.data;
  await releaseHostLockOfJob(deps.redis, deps.keys, host, jobId);
  await deps.inflight.release('fix', host, jobId);
  await deps.audit.record({ event: 'interrupted', action: 'fix', host, actor: { platform: actor.platform, userId: actor.userId }, jobId, detail: 'process stopped before the first step; job failed by the stall check, nothing ran on the host' });
  await deps.notifier.send({
    chat,
    messageKey,
    reply: { title: `The fix on ${host} was interrupted before its first step because the worker stopped. Nothing ran on the host.`, tone: 'error', body: [`Send /fix ${host} to try again.`] },
  });
}
