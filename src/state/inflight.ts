/**
 * Which job is running for a host and kind, and who else waits on its result. A second
 * `/diagnose prod` while one runs joins it (its chat gets the same result); a second
 * `/fix prod` is told a fix is already running. State in Redis so it spans processes.
 */
import type { RedisClient } from './redis.js';
import type { JobOrigin } from '../domain/types.js';
import { TTL, type KeySpace } from './key-space.js';

/** Who started the in-flight job, shown to a second requester. */
export interface InflightInfo {
  jobId: string;
  startedBy: string;
  startedAt: string;
}

export class Inflight {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {}

  private key(kind: string, host: string): string {
    return this.keys.inflight(kind, host);
  }

  private subsKey(jobId: string): string {
    return this.keys.inflightSubscribers(jobId);
  }

  /** Claim kind+host for jobId; returns the holder when someone else already has it. */
  async claim(kind: string, host: string, info: InflightInfo): Promise<InflightInfo | undefined> {
    const ok = await this.redis.set(this.key(kind, host), JSON.stringify(info), 'EX', TTL.inflightSec, 'NX');
    if (ok === 'OK') return undefined;
    const raw = await this.redis.get(this.key(kind, host));
    return raw ? (JSON.parse(raw) as InflightInfo) : undefined;
  }

  /** Release the claim if jobId still holds it. */
  async release(kind: string, host: string, jobId: string): Promise<void> {
    const raw = await this.redis.get(this.key(kind, host));
    if (raw && (JSON.parse(raw) as InflightInfo).jobId === jobId) await this.redis.del(this.key(kind, host));
  }

  /** Add a requester who joined jobId; they get the same progress and result. */
  async subscribe(jobId: string, origin: JobOrigin): Promise<void> {
    await this.redis.multi().rpush(this.subsKey(jobId), JSON.stringify(origin)).expire(this.subsKey(jobId), TTL.inflightSec).exec();
  }

  /** Everyone who joined jobId. */
  async subscribers(jobId: string): Promise<JobOrigin[]> {
    const rows = await this.redis.lrange(this.subsKey(jobId), 0, -1);
    return rows.map((r) => JSON.parse(r) as JobOrigin);
  }
}
