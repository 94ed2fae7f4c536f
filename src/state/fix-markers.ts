/**
 * Two markers per fix job ({@link TTL.fixMarkerSec}): "started" keeps a job handed out twice from running
 * its steps twice; "done" (its outcome) keeps a copy handed out again after its outcome was sent quiet.
 */
import type { RedisClient } from './redis.js';
import { TTL, type KeySpace } from './key-space.js';

export class FixMarkers {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {}

  /** True for the first start of `jobId` only. */
  async claimStart(jobId: string, now = Date.now()): Promise<boolean> {
    return (await this.redis.set(this.keys.fixStarted(jobId), String(now), 'EX', TTL.fixMarkerSec, 'NX')) === 'OK';
  }

  /** The outcome sent for `jobId`, if one was. */
  async outcome(jobId: string): Promise<string | null> {
    return this.redis.get(this.keys.fixDone(jobId));
  }

  async markDone(jobId: string, outcome: string): Promise<void> {
    await this.redis.set(this.keys.fixDone(jobId), outcome, 'EX', TTL.fixMarkerSec);
  }
}
