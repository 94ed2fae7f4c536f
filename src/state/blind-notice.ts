/** The "clawmedic was blind" notice goes out once per gap, whichever process sees again first. */
import type { RedisClient } from './redis.js';
import { TTL, type KeySpace } from './key-space.js';

export class BlindNotice {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {}

  /** True for the one process that gets to send the notice of this gap. */
  async claim(processId: string): Promise<boolean> {
    return (await this.redis.set(this.keys.blindNotice(), processId, 'EX', TTL.blindNoticeSec, 'NX')) === 'OK';
  }
}
