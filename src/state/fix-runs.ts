/**
 * Durable progress of each running fix (issue 13.2): which job, which process runs it, which step is
 * running, whether this fix has stopped the gateway, and where its requester watches. Written as the
 * fix runs and removed when it ends, so a record whose process is dead is a fix that was interrupted.
 * Records are signed like queued jobs (CLAWMEDIC_JOB_KEY): one written in Redis by anyone else is refused.
 */
import type { RedisClient } from './redis.js';
import type { Cause, FixStepKind } from '../domain/diagnosis.js';
import type { JobSigner } from '../util/job-signer.js';
import type { JobOrigin, ProcessOwner } from '../domain/types.js';
import { TTL, type KeySpace } from './key-space.js';

/** One running fix as stored in Redis. */
export interface FixRun {
  jobId: string;
  host: string;
  cause: Cause;
  /** The process running it. */
  owner: ProcessOwner;
  /** BullMQ's lock token of the job in that process (to fail the job cleanly if the process dies). */
  lockToken?: string;
  /** Who asked and which message shows the progress. */
  origin: Pick<JobOrigin, 'actor' | 'chat' | 'messageKey'>;
  /** Step kinds of the plan, in order. */
  steps: FixStepKind[];
  /** Index of the step running now; -1 before the first. */
  step: number;
  stepStartedAt?: number;
  /** A step of this fix may have stopped the gateway, and no later start has succeeded. */
  gatewayStopped: boolean;
  startedAt: number;
}

/** Steps after whose start the gateway may be down until a start succeeds. */
const STOPS: ReadonlySet<FixStepKind> = new Set<FixStepKind>(['stop_gateway', 'restart_gateway', 'kill_port_owner']);
/** Steps whose success means the gateway was started again. */
const STARTS: ReadonlySet<FixStepKind> = new Set<FixStepKind>(['start_gateway', 'restart_gateway']);

/** Records of running fixes (KeySpace.fixRun) plus an index set of job ids. */
export class FixRunStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    private readonly signer: JobSigner,
  ) {}

  private key(jobId: string): string {
    return this.keys.fixRun(jobId);
  }

  private get indexKey(): string {
    return this.keys.fixRunIndex();
  }

  private async write(run: FixRun): Promise<void> {
    const plain = JSON.parse(JSON.stringify(run)) as FixRun;
    const sig = this.signer.sign('fix-run', run.jobId, plain);
    await this.redis.multi().set(this.key(run.jobId), JSON.stringify({ ...plain, sig }), 'EX', TTL.fixRunSec).sadd(this.indexKey, run.jobId).exec();
  }

  /** Record a fix about to run its first step. */
  async begin(run: Omit<FixRun, 'step' | 'gatewayStopped' | 'startedAt'>): Promise<void> {
    await this.write({ ...run, step: -1, gatewayStopped: false, startedAt: Date.now() });
  }

  /**
   * Record that step `index` starts. False when the record is gone: another process found this fix's
   * process dead and recovered it (the fix must not go on behind its back).
   */
  async stepStarted(jobId: string, index: number): Promise<boolean> {
    const run = await this.get(jobId);
    if (!run || run === 'forged') return false;
    const kind = run.steps[index];
    await this.write({ ...run, step: index, stepStartedAt: Date.now(), gatewayStopped: run.gatewayStopped || (kind !== undefined && STOPS.has(kind)) });
    return true;
  }

  /** Record how step `index` ended (a successful start means the gateway is no longer stopped by us). */
  async stepEnded(jobId: string, index: number, ok: boolean): Promise<void> {
    const run = await this.get(jobId);
    if (!run || run === 'forged') return;
    const kind = run.steps[index];
    if (ok && kind !== undefined && STARTS.has(kind) && run.gatewayStopped) await this.write({ ...run, gatewayStopped: false });
  }

  /** The fix ended (any way): forget it. */
  async end(jobId: string): Promise<void> {
    await this.redis.multi().del(this.key(jobId)).srem(this.indexKey, jobId).exec();
  }

  /** Job ids of every recorded fix. */
  async ids(): Promise<string[]> {
    return this.redis.smembers(this.indexKey);
  }

  /** One record; 'forged' when its signature does not match, undefined when it is gone. */
  async get(jobId: string): Promise<FixRun | 'forged' | undefined> {
    const raw = await this.redis.get(this.key(jobId));
    if (!raw) return undefined;
    try {
      const { sig, ...run } = JSON.parse(raw) as FixRun & { sig?: unknown };
      return this.signer.verify('fix-run', jobId, run, sig) && run.jobId === jobId ? run : 'forged';
    } catch {
      return 'forged';
    }
  }

  /** Take the recovery of `jobId` (one process at a time); false if another process has it. */
  async claimRecovery(jobId: string, by: string, ms: number): Promise<boolean> {
    return (await this.redis.set(this.keys.fixRunRecovering(jobId), by, 'PX', ms, 'NX')) === 'OK';
  }

  /** Recovery done: the record, its index entry and the claim go; a marker says it was recovered (TTL.fixRecoveredSec). */
  async recovered(jobId: string): Promise<void> {
    await this.redis
      .multi()
      .del(this.key(jobId), this.keys.fixRunRecovering(jobId))
      .srem(this.indexKey, jobId)
      .set(this.keys.fixRunRecovered(jobId), '1', 'EX', TTL.fixRecoveredSec)
      .exec();
  }

  /** Was `jobId` closed by a recovery (within TTL.fixRecoveredSec)? */
  async wasRecovered(jobId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.fixRunRecovered(jobId))) === 1;
  }
}
