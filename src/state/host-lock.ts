/**
 * Per-host single flight across processes (Redis SET NX PX): one state-changing job per host at a time,
 * so a second `/fix prod` or a stalled BullMQ job running twice is told who holds the host instead of racing.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis.js';
import type { KeySpace } from './key-space.js';

/** Who holds a host: enough for "a fix on prod is already running (job X started by Y)". */
export interface HostLockOwner {
  jobId: string;
  /** What the holder is doing, e.g. "fix", "restart". */
  action: string;
  /** Display name or id of the person who started it, if any. */
  startedBy?: string;
}

/** A held lock as stored in Redis, plus when it was taken and how long it still lives. */
export interface HostLockHolder extends HostLockOwner {
  startedAt: number;
  /** Milliseconds until the lock expires on its own (-1 if unknown). */
  ttlMs: number;
}

/** A lock we hold. release() and extend() only act while the stored value is still ours. */
export interface HostLockHandle {
  readonly host: string;
  readonly owner: HostLockOwner;
  /** Random per-acquisition token: tells our lock apart from a later holder's. */
  readonly token: string;
  /** Delete the lock if it is still ours; false if it had expired or was taken over. */
  release(): Promise<boolean>;
  /** Push the expiry out to `ttlMs` from now (default: the original ttl) if still ours. */
  extend(ttlMs?: number): Promise<boolean>;
}

// Compare-and-delete / compare-and-extend: a holder whose lock expired must not touch the next holder's.
const RELEASE_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXTEND_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

// Delete the lock only while the job named in it still holds it (a dead process's job, released by another).
const RELEASE_JOB_LUA = `local v = redis.call('get', KEYS[1])
if not v then return 0 end
local ok, d = pcall(cjson.decode, v)
if ok and type(d) == 'table' and d['jobId'] == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;

/**
 * Take the lock for `host` for `ttlMs`, or return null when someone else holds it
 * (then {@link getHostLockHolder} says who). Long jobs call extend() before the ttl runs out.
 */
export async function acquireHostLock(
  redis: RedisClient,
  keys: KeySpace,
  host: string,
  owner: HostLockOwner,
  ttlMs: number,
): Promise<HostLockHandle | null> {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new RangeError(`host lock ttlMs must be a positive integer, got ${ttlMs}`);
  const key = keys.hostLock(host);
  const token = randomUUID();
  const value = JSON.stringify({ token, ...owner, startedAt: Date.now() });
  const ok = await redis.set(key, value, 'PX', ttlMs, 'NX');
  if (ok !== 'OK') return null;
  return {
    host,
    owner: { ...owner },
    token,
    async release() {
      return Number(await redis.eval(RELEASE_LUA, 1, key, value)) === 1;
    },
    async extend(newTtlMs = ttlMs) {
      return Number(await redis.eval(EXTEND_LUA, 1, key, value, String(newTtlMs))) === 1;
    },
  };
}

/** Who holds `host` right now, or null if nobody (or the stored value is not ours to read). */
export async function getHostLockHolder(redis: RedisClient, keys: KeySpace, host: string): Promise<HostLockHolder | null> {
  const key = keys.hostLock(host);
  const [raw, ttl] = await Promise.all([redis.get(key), redis.pttl(key)]);
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as Partial<HostLockHolder> & { token?: string };
    if (typeof v.jobId !== 'string' || typeof v.action !== 'string') return null;
    return {
      jobId: v.jobId,
      action: v.action,
      ...(typeof v.startedBy === 'string' ? { startedBy: v.startedBy } : {}),
      startedAt: typeof v.startedAt === 'number' ? v.startedAt : 0,
      ttlMs: ttl >= 0 ? ttl : -1,
    };
  } catch {
    return null;
  }
}

/**
 * Release `host` if job `jobId` holds it, from any process: for a job whose process died holding the
 * lock (its handle died with it). True if the lock was that job's and is now gone.
 */
export async function releaseHostLockOfJob(redis: RedisClient, keys: KeySpace, host: string, jobId: string): Promise<boolean> {
  return Number(await redis.eval(RELEASE_JOB_LUA, 1, keys.hostLock(host), jobId)) === 1;
}
