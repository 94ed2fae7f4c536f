/**
 * Acks asked for in chat, waiting for the host's owner (this process or another) to apply them on its
 * next tick. Writing one bumps the control counter (state/control-seq.ts) so the owner rereads it.
 */
import type { RedisClient } from './redis.js';
import { bumpControlSeq } from './control-seq.js';
import { TTL, type KeySpace } from './key-space.js';

/** An ack asked for in chat, waiting for the host's owner to apply it. */
export interface AckRequest {
  by: string;
  at: number;
}

export class AckRequests {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {}

  /** Ask the host's owner to ack what fired up to `req.at`. */
  async request(host: string, req: AckRequest): Promise<void> {
    await bumpControlSeq(this.redis.multi().set(this.keys.ackRequest(host), JSON.stringify(req), 'EX', TTL.ackRequestSec), this.keys).exec();
  }

  /** The pending ack of `host`, taken (read and deleted at once: applied once). */
  async take(host: string): Promise<AckRequest | undefined> {
    const raw = await this.redis.getdel(this.keys.ackRequest(host));
    return raw ? (JSON.parse(raw) as AckRequest) : undefined;
  }
}
