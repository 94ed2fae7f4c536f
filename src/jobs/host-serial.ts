/**
 * At most one diagnose/plan/fix job per host at a time, across every worker process: a job
 * takes the host's lock (src/state/host-lock.ts) for as long as it runs; a job that finds the
 * host busy is put back as delayed (BullMQ DelayedError: no attempt is used up) and its
 * requester is told once what it waits for. A stalled job that BullMQ hands out twice meets
 * its own lock and waits instead of running twice.
 */
import { DelayedError, type Job } from 'bullmq';
import type { RedisClient } from '../state/redis.js';
import { TTL, type KeySpace } from '../state/key-space.js';
import { acquireHostLock, getHostLockHolder, type HostLockHandle, type HostLockHolder } from '../state/host-lock.js';

/** How long a lock lives without renewal (a crashed worker frees its host after this). */
const LOCK_TTL_MS = 60_000;
/** Renewal period while the job runs. */
const RENEW_MS = 15_000;
/** How soon a waiting job looks again. */
const RETRY_DELAY_MS = 2_000;

/** A held host: call release() when the job ends. */
export interface HostTurn {
  release(): Promise<void>;
}

/**
 * Take `host` for `job`, or delay the job (throws DelayedError, which the processor must rethrow
 * untouched). `onBusy` runs once per job, the first time it has to wait.
 */
export async function takeHostTurn(
  redis: RedisClient,
  keys: KeySpace,
  host: string,
  job: Job,
  token: string | undefined,
  action: string,
  onBusy: (holder: HostLockHolder | null) => Promise<void>,
): Promise<HostTurn> {
  const lock: HostLockHandle | null = await acquireHostLock(redis, keys, host, { jobId: String(job.id), action }, LOCK_TTL_MS);
  if (!lock) {
    if ((await redis.set(keys.hostWait(String(job.id)), '1', 'EX', TTL.hostWaitSec, 'NX')) === 'OK') await onBusy(await getHostLockHolder(redis, keys, host));
    await job.moveToDelayed(Date.now() + RETRY_DELAY_MS, token);
    throw new DelayedError();
  }
  const renew = setInterval(() => void lock.extend().catch(() => undefined), RENEW_MS);
  return {
    async release() {
      clearInterval(renew);
      await lock.release().catch(() => undefined);
    },
  };
}

/** Is this the "put back as delayed" signal (to be rethrown, not reported as a failure)? */
export function isDelayed(err: unknown): boolean {
  return err instanceof DelayedError;
}
