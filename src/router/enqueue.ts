/**
 * What the router queues: a host job (status, diagnose, plan; one diagnose/plan per host at a time) and
 * a confirmed fix (attempts per hour, one fix per host, signed), with the admins told when it stops.
 */
import { RETRY } from '../constants.js';
import type { JobOrigin, RouterResponse } from '../domain/types.js';
import type { Verdict } from '../domain/diagnosis.js';
import { HOST_JOB, type HostJobName } from '../jobs/payloads.js';
import { isDisruptive } from '../openclaw/step-catalog.js';
import { sealFixJob } from '../jobs/fix-job-guard.js';
import type { StoredPlan } from '../openclaw/stored-plan.js';
import { refusal, pending } from '../render/render-basic.js';
import type { RouterDeps } from './router-deps.js';

export async function enqueueHostJob(deps: RouterDeps, kind: HostJobName, hosts: string[], origin: JobOrigin): Promise<RouterResponse> {
  const { queues, audit, inflight } = deps;
  const who = { platform: origin.actor.platform, userId: origin.actor.userId };
  const where = { platform: origin.chat.platform, chatId: origin.chat.chatId };
  if (hosts.length === 0) return { reply: refusal('No hosts are bound to this chat.') };
  const jobId = `${kind}-${origin.requestId}`;
  if (kind === HOST_JOB.status && !(await deps.statusSlots.reserve(where, jobId))) {
    await audit.record({ event: 'denied', action: kind, actor: who, chat: where, detail: `${deps.statusSlots.perChat} status checks already waiting in this chat` });
    return { reply: refusal(`${deps.statusSlots.perChat} status checks are already running for this chat; their results are on the way. Nothing new was started.`) };
  }
  if (kind !== HOST_JOB.status) {
    // One diagnose/plan per host at a time: a second request joins the running one.
    const holder = await inflight.claim(kind, hosts[0]!, {
      jobId,
      startedBy: origin.actor.displayName ?? `${origin.actor.platform}:${origin.actor.userId}`,
      startedAt: new Date().toISOString(),
    });
    if (holder && holder.jobId !== jobId) {
      await inflight.subscribe(holder.jobId, origin);
      await audit.record({ event: 'joined', action: kind, host: hosts[0], actor: who, chat: where, jobId: holder.jobId });
      return {
        reply: pending(`${hosts[0]}: a ${kind === 'plan' ? 'fix check' : kind} started by ${holder.startedBy} is already running; you will get its result here.`),
        messageKey: origin.messageKey,
      };
    }
  }
  try {
    await queues.diagnose.add(kind, { ...origin, hosts }, { jobId, attempts: RETRY.attempts, backoff: { type: 'exponential', delay: RETRY.backoffMs } });
  } catch (err) {
    if (kind !== HOST_JOB.status) await inflight.release(kind, hosts[0]!, jobId).catch(() => undefined);
    else await deps.statusSlots.release(where, jobId);
    deps.logger.error({ err }, 'enqueue failed');
    return { reply: refusal('clawmedic cannot reach its Redis queue right now; nothing was started. Try again shortly.') };
  }
  await audit.record({ event: 'allowed', action: kind, host: hosts.length === 1 ? hosts[0] : undefined, actor: who, chat: where, jobId });
  const what = kind === HOST_JOB.status ? 'Checking' : kind === HOST_JOB.plan ? 'Diagnosing before a fix:' : 'Diagnosing';
  // The job id goes to the audit record above and the logs; chat gets words only.
  deps.logger.info({ jobId, kind, hosts }, 'job queued');
  return { reply: pending(`${what} ${hosts.join(', ')}…`), messageKey: origin.messageKey };
}

export async function confirmFix(deps: RouterDeps, 
  host: string,
  plan: StoredPlan | undefined,
  before: Verdict | undefined,
  origin: JobOrigin,
  action: 'confirm' | 'restore' | 'bring_back',
): Promise<RouterResponse> {
  const { queues, audit, inflight, fixAttempts, config } = deps;
  const who = { platform: origin.actor.platform, userId: origin.actor.userId };
  const where = { platform: origin.chat.platform, chatId: origin.chat.chatId };
  if (!plan) return { reply: refusal('This confirmation has no plan attached; send /fix again.') };
  // Only fixes that stop, start, restart or kill count (a fresh link or a config edit does not).
  const disruptive = plan.steps.some((s) => isDisruptive(s.kind));
  const used = disruptive ? await fixAttempts.count(host) : 0;
  if (disruptive && used >= config.fix.maxAttemptsPerHour) {
    await audit.record({ event: 'escalated', action: 'fix', host, actor: who, chat: where, detail: `${used} attempts in the last hour` });
    await escalate(deps, host, `${used} fixes ran on ${host} in the last hour (limit ${config.fix.maxAttemptsPerHour}) and it still needs one (cause: ${plan.cause}, requested by ${origin.actor.displayName ?? `${origin.actor.platform}:${origin.actor.userId}`}). clawmedic stopped; please look at it by hand.`);
    return {
      reply: refusal(
        `${host}: ${used} fixes ran in the last hour (limit ${config.fix.maxAttemptsPerHour}). Stopping here; an admin should look at it by hand.`,
      ),
    };
  }
  const jobId = `fix-${origin.requestId}`;
  origin.messageKey = `job:${jobId}`;
  const holder = await inflight.claim('fix', host, {
    jobId,
    startedBy: origin.actor.displayName ?? `${origin.actor.platform}:${origin.actor.userId}`,
    startedAt: new Date().toISOString(),
  });
  if (holder && holder.jobId !== jobId) {
    await audit.record({ event: 'busy', action: 'fix', host, actor: who, chat: where, jobId: holder.jobId });
    return { reply: refusal(`${host}: a fix started by ${holder.startedBy} is already running. Not starting a second one.`) };
  }
  try {
    await queues.fix.add('fix', sealFixJob(deps.signer, jobId, { ...origin, host, plan, before }), { jobId });
  } catch (err) {
    await inflight.release('fix', host, jobId).catch(() => undefined);
    deps.logger.error({ err }, 'enqueue fix failed');
    return { reply: refusal('clawmedic cannot reach its Redis queue right now; nothing was started. Try again shortly.') };
  }
  await audit.record({
    event: 'confirmed',
    action: action === 'confirm' ? 'fix' : action,
    host,
    actor: who,
    chat: where,
    jobId,
    detail: `cause ${plan.cause}; steps ${plan.steps.map((s) => s.kind).join(',') || 'none'}`,
  });
  deps.logger.info({ jobId, host }, 'fix queued');
  return { reply: pending(`${host}: fix confirmed, queued.`), messageKey: origin.messageKey };
}

/** Tell every admin privately (their Telegram/Discord DMs); failures to reach one never block the reply. */
export async function escalate(deps: RouterDeps, host: string, message: string): Promise<void> {
  const notifier = deps.notifier;
  if (!notifier) return;
  const admins = deps.config.people.filter((p) => p.role === 'admin' && p.platform !== 'console');
  await Promise.allSettled(
    admins.map((a) =>
      notifier.send({
        chat: { platform: a.platform, chatId: a.userId, isGroup: false },
        userId: a.userId,
        reply: { title: `Escalation: ${host} needs a person`, tone: 'error', body: [message], private: true },
      }),
    ),
  );
}
