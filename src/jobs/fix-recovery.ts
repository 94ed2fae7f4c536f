/**
 * Finds fixes interrupted by a dead process and closes them (issue 13.2): at start and every few
 * seconds, each worker process looks at the recorded fixes (state/fix-runs.ts); for one whose process is
 * gone it fails the BullMQ job (so nothing re-runs a step), releases the host lock, the "fix running"
 * claim and the alert hold, tells the requester in the fix's own message, checks the host, and
 * offers "Bring it back" (start + verify) when the interrupted fix had stopped the gateway.
 */
import { Job, type Queue } from 'bullmq';
import type { RedisClient } from '../state/redis.js';
import { AUTOFIX_USER_ID, FIX_RECOVERY } from '../constants.js';
import type { AuditLog } from '../state/audit-log.js';
import type { FixStepKind } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
import type { Reply, ReplyButton } from '../domain/types.js';
import { releaseHostLockOfJob } from '../state/host-lock.js';
import type { KeySpace } from '../state/key-space.js';
import type { ButtonIssuer } from '../domain/ports.js';
import type { Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';
import type { FixRun, FixRunStore } from '../state/fix-runs.js';
import type { HostOps, HostStatus } from '../domain/host-ops.js';
import type { Inflight } from '../state/inflight.js';
import type { Notifier } from './notifier.js';
import type { FixJobData } from './payloads.js';
import type { ProcessRegistry } from './process-registry.js';

/** How a step is named to a person ("step 2/4 (doctor --fix)"). */
const STEP_WORDS: Record<FixStepKind, string> = {
  stop_gateway: 'stop the gateway',
  start_gateway: 'start the gateway',
  restart_gateway: 'restart the gateway',
  doctor_fix: 'doctor --fix',
  reinstall_service: 'reinstall the service',
  remove_token_override: 'remove the --token override',
  kill_port_owner: 'stop the port owner',
  disable_plugin: 'disable a plugin',
  set_gateway_mode_local: 'set gateway.mode',
  fresh_dashboard_link: 'fresh dashboard link',
  restore_config_backup: 'restore the config backup',
  wait_for_gateway: 'wait for the gateway',
  container_doctor_fix: 'doctor --fix in a one-off container',
  container_disable_plugin: 'disable a plugin in a one-off container',
  container_restore_config_backup: 'restore the config backup in the container state',
  container_set_gateway_mode_local: 'set gateway.mode in a one-off container',
};

/** "step 2/4 (doctor --fix)", or "before its first step". */
export function describeInterruptedStep(run: Pick<FixRun, 'step' | 'steps'>): string {
  if (run.step < 0) return 'before its first step';
  const kind = run.steps[run.step];
  return `at step ${run.step + 1}/${run.steps.length}${kind ? ` (${STEP_WORDS[kind] ?? kind})` : ''}`;
}

/** The first message: what happened, and that the host is being checked. */
export function renderInterrupted(run: FixRun): Reply {
  return {
    title: `The fix on ${run.host} was interrupted ${describeInterruptedStep(run)} because the worker stopped. Checking the host…`,
    tone: 'pending',
    body: ['Nothing will be re-run by itself.'],
  };
}

/** The result after the host check, with "Bring it back" when the fix had stopped a gateway that is still down. */
export function renderInterruptedResult(run: FixRun, status: HostStatus, buttons: ReplyButton[]): Reply {
  const where = `The fix on ${run.host} was interrupted ${describeInterruptedStep(run)} because the worker stopped.`;
  const ran = run.step >= 0 ? `Steps started: ${run.steps.slice(0, run.step + 1).map((k) => STEP_WORDS[k] ?? k).join(', ')}. Nothing was re-run.` : 'No step had started.';
  if (!status.reachable) {
    return {
      title: `${run.host}: fix interrupted; the host cannot be checked`,
      tone: 'error',
      body: [where, ran, `Could not check the host: ${status.error ?? 'unreachable'}.`, ...(buttons.length ? ['The fix had stopped the gateway: press Bring it back to start it and verify once the host answers.'] : [])],
      buttons,
    };
  }
  if (status.probeOk) {
    return {
      title: `${run.host}: fix interrupted; the gateway is up`,
      tone: 'warn',
      body: [where, ran, `The gateway answers its probe${status.version ? ` (OpenClaw ${status.version})` : ''}. Send /diagnose ${run.host} to see whether the cause is still there.`],
    };
  }
  const down = `The gateway is down${status.probeError ? ` (${status.probeError})` : ''}.`;
  return {
    title: `${run.host}: fix interrupted; the gateway is down`,
    tone: 'error',
    body: buttons.length
      ? [where, ran, `${down} The interrupted fix had stopped it: Bring it back starts it and verifies it (nothing else is run).`]
      : [where, ran, `${down} The interrupted fix had not stopped it. Send /fix ${run.host} to try again.`],
    buttons,
  };
}

export interface FixRecoveryDeps {
  redis: RedisClient;
  keys: KeySpace;
  runs: FixRunStore;
  registry: ProcessRegistry;
  fixQueue: Queue<FixJobData, unknown, 'fix'>;
  hosts: ReadonlyMap<string, HostConfig>;
  ops: HostOps;
  notifier: Notifier;
  buttons: ButtonIssuer;
  audit: AuditLog;
  inflight: Inflight;
  /** Lifts the host's "fix running" alert hold (the monitor's, or the mute store's directly). */
  releaseAlertHold(host: string): Promise<void>;
  logger: Logger;
  scanMs?: number;
}

/** What one scan did, for logs and tests. */
export interface RecoveryResult {
  jobId: string;
  host: string;
  gatewayStopped: boolean;
  status?: HostStatus;
  offeredBringBack: boolean;
}

export class FixRecovery {
  private timer?: NodeJS.Timeout;
  private running?: Promise<RecoveryResult[]>;
  private closed = false;

  constructor(private readonly deps: FixRecoveryDeps) {}

  /** Scan now, then every scanMs until close(). */
  start(): Promise<RecoveryResult[]> {
    this.timer = setInterval(() => void this.scan().catch((err) => this.deps.logger.warn({ err }, 'fix recovery scan failed')), this.deps.scanMs ?? FIX_RECOVERY.scanMs);
    this.timer.unref();
    return this.scan().catch((err) => {
      this.deps.logger.warn({ err }, 'fix recovery scan failed');
      return [];
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass over the recorded fixes (one at a time per process). */
  scan(): Promise<RecoveryResult[]> {
    this.running ??= this.scanOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async scanOnce(): Promise<RecoveryResult[]> {
    const { runs, registry, logger, audit } = this.deps;
    const done: RecoveryResult[] = [];
    for (const jobId of await runs.ids()) {
      if (this.closed) break;
      const run = await runs.get(jobId);
      if (run === undefined) {
        await runs.end(jobId); // an index entry whose record ended (or expired)
        continue;
      }
      if (run === 'forged') {
        await audit.record({ event: 'refused', action: 'fix', jobId, detail: 'a fix progress record failed its signature check (edited or written in Redis); ignored and removed' });
        logger.error({ jobId }, 'refused a fix progress record whose signature does not match');
        await runs.end(jobId);
        continue;
      }
      if ((await registry.liveness(run.owner)) !== 'dead') continue;
      if (!(await runs.claimRecovery(jobId, registry.self.id, FIX_RECOVERY.claimMs))) continue;
      done.push(await this.recover(run));
    }
    return done;
  }

  /** Close one interrupted fix. Each part is idempotent: a recovery that dies half-way is redone by the next claim. */
  private async recover(run: FixRun): Promise<RecoveryResult> {
    const { runs, notifier, audit, inflight, logger, hosts, ops, buttons } = this.deps;
    const { actor, chat, messageKey } = run.origin;
    const who = { platform: actor.platform, userId: actor.userId };
    const where = describeInterruptedStep(run);
    logger.warn({ jobId: run.jobId, host: run.host, owner: run.owner.id, step: run.step }, 'found a fix interrupted by a dead process');

    // The user first: within seconds of the process start, before anything that can take long.
    await notifier.send({ chat, messageKey, reply: renderInterrupted(run) });
    await this.failJob(run);
    await releaseHostLockOfJob(this.deps.redis, this.deps.keys, run.host, run.jobId);
    await inflight.release('fix', run.host, run.jobId);
    await this.deps.releaseAlertHold(run.host);
    await audit.record({
      event: 'interrupted',
      action: 'fix',
      host: run.host,
      actor: who,
      jobId: run.jobId,
      detail: `process ${run.owner.id} stopped ${where}; gateway ${run.gatewayStopped ? 'stopped by the fix' : 'not stopped by the fix'}; job failed, not re-run; host lock, claim and alert hold released`,
    });

    const host = hosts.get(run.host);
    let status: HostStatus | undefined;
    let offered = false;
    if (host) {
      try {
        status = await ops.status(host);
      } catch (err) {
        status = { host: run.host, reachable: false, probeOk: false, error: redact(err instanceof Error ? err.message : String(err)), durationMs: 0 };
      }
      const buttonsOut: ReplyButton[] = [];
      if (run.gatewayStopped && !status.probeOk && ops.bringBackPlan) {
        const [token] = await buttons.issue(
          [{ action: 'bring_back', host: run.host, platform: chat.platform, chatId: chat.chatId, boundUserId: actor.userId === AUTOFIX_USER_ID ? undefined : actor.userId, plan: ops.bringBackPlan(host) }],
          FIX_RECOVERY.bringBackTtlSec,
        );
        buttonsOut.push({ label: 'Bring it back', action: 'bring_back', token: token!, style: 'danger' });
        offered = true;
      }
      await notifier.send({ chat, messageKey, reply: renderInterruptedResult(run, status, buttonsOut) });
    } else {
      await notifier.send({
        chat,
        messageKey,
        reply: { title: `The fix on ${run.host} was interrupted ${where} because the worker stopped.`, tone: 'error', body: [`${run.host} is no longer in the inventory; nothing else was done.`] },
      });
    }
    await runs.recovered(run.jobId);
    return { jobId: run.jobId, host: run.host, gatewayStopped: run.gatewayStopped, status, offeredBringBack: offered };
  }

  /** Move the job out of active to failed, so no worker (and no stalled check) ever runs it again. */
  private async failJob(run: FixRun): Promise<void> {
    const { fixQueue, logger } = this.deps;
    const job = await Job.fromId<FixJobData, unknown, 'fix'>(fixQueue, run.jobId);
    if (!job) return;
    const state = await job.getState();
    const reason = new Error(`interrupted ${describeInterruptedStep(run)}: the clawmedic process running it stopped`);
    if (state === 'active') {
      // The dead worker's lock token releases its lock too; once that lock has expired, '0' skips the check.
      try {
        await job.moveToFailed(reason, run.lockToken ?? '0');
      } catch {
        await job.moveToFailed(reason, '0');
      }
    } else if (state === 'waiting' || state === 'prioritized' || state === 'delayed') {
      // Already handed back by a stall check: take it out before a worker can fetch it.
      await job.remove().catch((err) => logger.warn({ err, jobId: run.jobId }, 'could not remove an interrupted fix job'));
    }
  }
}
