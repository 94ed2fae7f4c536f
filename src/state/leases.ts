/**
 * Host leases in Redis (SET NX PX + compare-and-renew) so each host is followed by exactly one
 * clawmedic process, and a dead process's hosts are taken over within one lease period. Processes
 * announce themselves with a heartbeat so the hosts are shared out evenly instead of first come, all served.
 */
import type { RedisClient } from './redis.js';
import type { KeySpace } from './key-space.js';

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class LeaseManager {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    /** This process's id (unique per process start). */
    readonly processId: string,
    readonly leaseMs: number,
  ) {}

  key(host: string): string {
    return this.keys.lease(host);
  }

  private procsKey(): string {
    return this.keys.monitorProcesses();
  }

  /** Take the host if nobody holds it. */
  async tryAcquire(host: string): Promise<boolean> {
    return (await this.redis.set(this.key(host), this.processId, 'PX', this.leaseMs, 'NX')) === 'OK';
  }

  /** Extend our lease; false when it is no longer ours (expired and taken, or deleted). */
  async renew(host: string): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, this.key(host), this.processId, String(this.leaseMs))) === 1;
  }

  /**
   * Renew many leases in one round trip (a process with hundreds of hosts must not renew one EVAL at
   * a time, or the last ones expire before their turn). Returns, per host, whether it is still ours.
   */
  async renewAll(hosts: string[]): Promise<boolean[]> {
    if (hosts.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const h of hosts) pipe.eval(RENEW, 1, this.key(h), this.processId, String(this.leaseMs));
    const res = (await pipe.exec()) ?? [];
    return hosts.map((_, i) => !res[i]?.[0] && res[i]?.[1] === 1);
  }

  /** Give the host up (only if it is still ours). */
  async release(host: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key(host), this.processId);
  }

  /** Current holder of the host's lease. */
  async holder(host: string): Promise<string | null> {
    return this.redis.get(this.key(host));
  }

  /** Say this process is alive; returns the ids of the monitor processes alive (this one included). */
  async heartbeat(now = Date.now()): Promise<string[]> {
    const res = await this.redis
      .multi()
      .zadd(this.procsKey(), now, this.processId)
      // A process that missed a whole lease period of heartbeats (sent every third of one) is gone.
      .zremrangebyscore(this.procsKey(), 0, now - this.leaseMs)
      .zrange(this.procsKey(), 0, -1)
      .exec();
    const live = (res?.[2]?.[1] as string[] | undefined) ?? [];
    return live.includes(this.processId) ? live : [...live, this.processId];
  }

  /** Holder of each host's lease (null where free), in the order given. */
  async holders(hosts: string[]): Promise<Array<string | null>> {
    return hosts.length ? this.redis.mget(...hosts.map((h) => this.key(h))) : [];
  }

  /** Leave the process list (clean shutdown), so the others rebalance at once. */
  async leave(): Promise<void> {
    await this.redis.zrem(this.procsKey(), this.processId);
  }
}

/** Hosts this process should hold at most: an even share, rounded up. */
export function fairShare(hosts: number, processes: number): number {
  return Math.ceil(hosts / Math.max(1, processes));
}
