/**
 * Worker for the diagnose queue: status, diagnose and plan jobs. Read-only on the host, so
 * transient failures (connection refused, timeouts) are retried with backoff; the result goes
 * to the requester and everyone who joined, through the notify queue.
 */
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { RedisClient } from '../state/redis.js';
import { DEFAULTS, QUEUES } from '../constants.js';
import { ClawmedicError, HostNotInInventoryError } from '../domain/errors.js';
import type { HostConfig } from '../domain/host.js';
import type { FixPlan, Verdict } from '../domain/diagnosis.js';
import type { JobOrigin, Reply } from '../domain/types.js';
import type { AuditLog } from '../state/audit-log.js';
import type { ButtonIssuer, IncidentReader } from '../domain/ports.js';
import { type OpenAlert, renderConfirmExpired, renderPlan, renderStatus, renderVerdict, formatDuration } from '../render/render-results.js';
import { hostPicture } from '../alerts/picture-ref.js';
import type { PictureSource } from '../alerts/picture-source.js';
import { PICTURE_FILE_NAME } from '../alerts/render-incident.js';
import type { Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';
import type { HostOps } from '../domain/host-ops.js';
import type { Inflight } from '../state/inflight.js';
import type { Notifier } from './notifier.js';
import { HOST_JOB, type HostJobData, type HostJobName } from './payloads.js';
import type { Metrics } from '../http/metrics.js';
import { takeHostTurn, type HostTurn } from './host-serial.js';
import { releaseStatusSlot } from '../state/status-slots.js';
import type { KeySpace } from '../state/key-space.js';

export interface WorkerDeps {
  connection: ConnectionOptions;
  /** Producer connection for the per-host lock. */
  redis: RedisClient;
  /** Names of the Redis keys, and BullMQ's prefix. */
  keys: KeySpace;
  hosts: Map<string, HostConfig>;
  ops: HostOps;
  notifier: Notifier;
  buttons: ButtonIssuer;
  /** The monitor's incidents, for the open alerts /status mentions. */
  incidents: Pick<IncidentReader, 'loadOpen'>;
  audit: AuditLog;
  inflight: Inflight;
  logger: Logger;
  metrics?: Metrics;
  concurrency?: number;
  confirmTtlSec?: number;
  /** Lifetime of the Fix / Diagnose again buttons under a diagnosis (DEFAULTS.buttonTtlSec; tests shorten it). */
  buttonTtlSec?: number;
  /**
   * This process's incident pictures: warmed when a diagnose starts (its picture follows the verdict), and
   * the picture made here before its reference is queued (undefined: the sender makes it).
   */
  pictures?: Pick<PictureSource, 'warm' | 'prepare'>;
}

/** Send `reply` to the requester and to everyone who joined the job. */
export async function replyToAll(deps: Pick<WorkerDeps, 'notifier' | 'inflight'>, jobId: string, origin: JobOrigin, reply: Reply): Promise<void> {
  const everyone = [origin, ...(await deps.inflight.subscribers(jobId))];
  await Promise.all(everyone.map((o) => deps.notifier.send({ chat: o.chat, messageKey: o.messageKey, reply })));
}

/**
 * The host's recent hours as a picture under a diagnose result, for the requester's chat (a reference only:
 * the notify side makes the PNG, and drops the message when the monitor has nothing recorded for the host).
 */
async function sendDiagnosePicture(deps: Pick<WorkerDeps, 'notifier' | 'logger' | 'pictures'>, origin: JobOrigin, host: string): Promise<void> {
  const ref = hostPicture(host, undefined, Date.now());
  // Made here, by the renderer warmed when the diagnose started; the sender finds it in Redis. Not awaited by
  // the job: it must not hold the host's turn (a /fix right after) for a picture.
  if (deps.pictures) void deps.pictures.prepare(ref).then(() => queue());
  else await queue();
  async function queue(): Promise<void> {
    const reply: Reply = {
      title: `${host}, the last ${ref.hours} h: refusals per minute by cause, memory, restarts and fixes`,
      tone: 'info',
      image: { name: PICTURE_FILE_NAME, alt: `Refusals per minute by cause, host memory and gateway RSS of ${host} over the last ${ref.hours} hours`, ref },
    };
    try {
      await deps.notifier.send({ chat: origin.chat, messageKey: `${origin.messageKey}:picture`, replyToKey: origin.messageKey, reply });
    } catch (err) {
      deps.logger.warn({ host, err: redact(err instanceof Error ? err.message : String(err)) }, 'diagnose picture not queued');
    }
  }
}

/** How long the job took. The job id stays in the audit trail and logs, never in chat (people read it on a phone). */
function footerOf(_job: Job, startedAt: number): string {
  return formatDuration(Date.now() - startedAt);
}

/**
 * The monitor's firing incidents per host, read from its incident store, so /status can say
 * "gateway OK · 1 open alert: …". A read failure only drops the mention; the probe result stands.
 */
async function openAlertsOf(deps: WorkerDeps, hosts: string[]): Promise<Record<string, OpenAlert[]>> {
  const out: Record<string, OpenAlert[]> = {};
  await Promise.all(
    hosts.map(async (h) => {
      const open = await deps.incidents.loadOpen(h).catch((err: unknown) => {
        deps.logger.warn({ err, host: h }, 'status: cannot read open incidents');
        return [];
      });
      const firing = open.filter((i) => i.phase === 'firing').sort((a, b) => (a.firedAt ?? a.openedAt) - (b.firedAt ?? b.openedAt));
      if (firing.length) out[h] = firing.map((i) => ({ cause: i.cause, since: i.firedAt ?? i.openedAt, acked: !!i.ackedBy }));
    }),
  );
  return out;
}

function hostOf(deps: WorkerDeps, name: string): HostConfig {
  const host = deps.hosts.get(name);
  if (!host) throw new HostNotInInventoryError(name);
  return host;
}

type HostJob = Job<HostJobData, unknown, HostJobName>;

async function runHostJob(deps: WorkerDeps, job: HostJob): Promise<string> {
  const startedAt = Date.now();
  const data = job.data;
  const jobId = String(job.id);
  const single = data.hosts.length === 1 ? data.hosts[0] : undefined;

  if (job.name === HOST_JOB.status) {
    const [statuses, openAlerts] = await Promise.all([
      Promise.all(data.hosts.map((h) => deps.ops.status(hostOf(deps, h)))),
      openAlertsOf(deps, data.hosts),
    ]);
    await replyToAll(deps, jobId, data, renderStatus(statuses, footerOf(job, startedAt), openAlerts));
    return statuses.map((s) => `${s.host}:${s.reachable ? (s.probeOk ? 'ok' : 'probe-failed') : 'unreachable'}`).join(' ');
  }

  const host = hostOf(deps, single!);
  // A diagnose ends with a picture: the renderer starts now, during the seconds of SSH evidence.
  if (job.name === HOST_JOB.diagnose) deps.pictures?.warm();
  await replyToAll(deps, jobId, data, {
    title: `${host.name}: gathering evidence over SSH… (attempt ${job.attemptsMade + 1})`,
    tone: 'pending',
  });
  const verdict = await deps.ops.diagnose(host);
  const headline = verdict.findings[0]?.cause ?? 'unknown';
  if (job.name === HOST_JOB.diagnose) {
    await showDiagnosis(deps, job, host, verdict, startedAt);
    return headline;
  }
  const plan = await showPlan(deps, job, host, verdict, startedAt);
  return `${headline}; plan ${plan.steps.map((s) => s.kind).join(',') || 'user-side'}`;
}

/** The verdict with Fix / Diagnose again (they go when they expire), then the host's picture. */
async function showDiagnosis(deps: WorkerDeps, job: HostJob, host: HostConfig, verdict: Verdict, startedAt: number): Promise<void> {
  const data = job.data;
  const jobId = String(job.id);
  const headline = verdict.findings[0]?.cause ?? 'unknown';
  const buttonTtlSec = deps.buttonTtlSec ?? DEFAULTS.buttonTtlSec;
  const tokens = await deps.buttons.issue(
    [
      { action: 'fix', host: host.name, platform: data.chat.platform, chatId: data.chat.chatId },
      { action: 'diagnose', host: host.name, platform: data.chat.platform, chatId: data.chat.chatId },
    ],
    buttonTtlSec + DEFAULTS.confirmExpiryGraceSec,
  );
  const buttons =
    headline === 'healthy'
      ? [{ label: 'Diagnose again', action: 'diagnose' as const, token: tokens[1]!, style: 'secondary' as const }]
      : [
          { label: 'Fix', action: 'fix' as const, token: tokens[0]!, style: 'primary' as const },
          { label: 'Diagnose again', action: 'diagnose' as const, token: tokens[1]!, style: 'secondary' as const },
        ];
  const footer = footerOf(job, startedAt);
  await replyToAll(deps, jobId, data, renderVerdict(verdict, footer, buttons));
  // When the buttons expire the diagnosis stays, without them (unless one was pressed: then it is left alone).
  await deps.notifier.send(
    { chat: data.chat, messageKey: data.messageKey, reply: renderVerdict(verdict, footer), retires: tokens },
    { delayMs: buttonTtlSec * 1000 },
  );
  await sendDiagnosePicture(deps, data, host.name);
}

/** The plan: what /fix shows before anything runs; Confirm is bound to the requester. Others who joined get the verdict. */
async function showPlan(deps: WorkerDeps, job: HostJob, host: HostConfig, verdict: Verdict, startedAt: number): Promise<FixPlan> {
  const data = job.data;
  const jobId = String(job.id);
  const who = { platform: data.actor.platform, userId: data.actor.userId };
  const plan = deps.ops.plan(host, verdict);
  let buttons: Reply['buttons'] = [];
  const confirmTtlSec = deps.confirmTtlSec ?? DEFAULTS.confirmTtlSec;
  let retire: string[] = [];
  if (plan.steps.length > 0) {
    const [confirm, cancel] = await deps.buttons.issue(
      [
        { action: 'confirm', host: host.name, platform: data.chat.platform, chatId: data.chat.chatId, boundUserId: data.actor.userId, plan, requestId: data.requestId, verdict },
        { action: 'cancel', host: host.name, platform: data.chat.platform, chatId: data.chat.chatId, boundUserId: data.actor.userId },
      ],
      confirmTtlSec + DEFAULTS.confirmExpiryGraceSec,
    );
    retire = [confirm!, cancel!];
    buttons = [
      { label: 'Confirm fix', action: 'confirm', token: confirm!, style: 'danger' },
      { label: 'Cancel', action: 'cancel', token: cancel!, style: 'secondary' },
    ];
    await deps.audit.record({ event: 'confirm_requested', action: 'fix', host: host.name, actor: who, chat: data.chat, jobId, detail: `cause ${plan.cause}; steps ${plan.steps.map((s) => s.kind).join(',')}` });
  }
  await deps.notifier.send({ chat: data.chat, messageKey: data.messageKey, reply: renderPlan(verdict, plan, footerOf(job, startedAt), buttons) });
  if (retire.length) {
    // Unanswered, the confirmation turns into a plain notice without buttons when it expires.
    await deps.notifier.send(
      { chat: data.chat, messageKey: data.messageKey, reply: renderConfirmExpired(host.name, confirmTtlSec), retires: retire },
      { delayMs: confirmTtlSec * 1000 },
    );
  }
  // Others who joined see the verdict but cannot confirm someone else's fix.
  for (const sub of await deps.inflight.subscribers(jobId)) {
    await deps.notifier.send({ chat: sub.chat, messageKey: sub.messageKey, reply: renderVerdict(verdict, footerOf(job, startedAt)) });
  }
  return plan;
}

/** Start the worker for status/diagnose/plan jobs. */
export function startHostWorker(deps: WorkerDeps): Worker<HostJobData, unknown, HostJobName> {
  const worker = new Worker<HostJobData, unknown, HostJobName>(
    QUEUES.diagnose,
    async (job, token) => {
      const kind = job.name;
      const host = job.data.hosts.length === 1 ? job.data.hosts[0] : undefined;
      const who = { platform: job.data.actor.platform, userId: job.data.actor.userId };
      // One diagnose/plan/fix per host at a time; status is a quick read-only probe and never waits.
      let turn: HostTurn | undefined;
      if (host && kind !== HOST_JOB.status) {
        turn = await takeHostTurn(deps.redis, deps.keys, host, job, token, kind, (holder) =>
          replyToAll(deps, String(job.id), job.data, {
            title: `${host}: waiting for the running ${holder?.action ?? 'job'} to finish…`,
            tone: 'pending',
          }),
        );
      }
      if (job.attemptsMade === 0) await deps.audit.record({ event: 'job_started', action: kind, host, actor: who, jobId: String(job.id) });
      const end = deps.metrics?.jobDuration.startTimer({ type: kind });
      let ended = false;
      try {
        const summary = await runHostJob(deps, job);
        await deps.audit.record({ event: 'job_succeeded', action: kind, host, actor: who, jobId: String(job.id), detail: summary });
        end?.({ outcome: 'ok' });
        if (host && kind !== HOST_JOB.status) await deps.inflight.release(kind, host, String(job.id));
        ended = true;
        return summary;
      } catch (err) {
        const transient = err instanceof ClawmedicError && err.transient;
        const finalAttempt = !transient || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        const message = redact(err instanceof Error ? err.message : String(err));
        end?.({ outcome: finalAttempt ? 'failed' : 'retry' });
        if (finalAttempt) {
          ended = true;
          await deps.audit.record({ event: 'job_failed', action: kind, host, actor: who, jobId: String(job.id), detail: message });
          await replyToAll(deps, String(job.id), job.data, { title: `${host ?? 'status'}: ${kind} failed: ${message}`, tone: 'error' });
          if (host && kind !== HOST_JOB.status) await deps.inflight.release(kind, host, String(job.id));
          deps.logger.warn({ job: job.id, kind, host, reason: message }, 'host job failed');
          // Not retryable (wrong host key, auth refused...): fail now without another attempt.
          if (!transient) throw new UnrecoverableError(message);
        } else {
          await replyToAll(deps, String(job.id), job.data, { title: `${host}: ${message}; retrying…`, tone: 'pending' });
        }
        throw err;
      } finally {
        await turn?.release();
        // The chat's /status slot (router's cap on waiting status jobs) frees once the job is over, not between retries.
        if (ended && kind === HOST_JOB.status) await releaseStatusSlot(deps.redis, deps.keys, job.data.chat, String(job.id));
      }
    },
    { connection: deps.connection, prefix: deps.keys.prefix, concurrency: deps.concurrency ?? DEFAULTS.workerConcurrency },
  );
  worker.on('error', (err) => deps.logger.error({ err }, 'host worker error'));
  return worker;
}
