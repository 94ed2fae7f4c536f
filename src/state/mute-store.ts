/**
 * Mutes per host in Redis: a person's `/mute <host> <duration>` and the mute clawmedic sets on a
 * host while its own fix runs there. Each is a key with its own TTL, so a mute ends by itself.
 * Every write bumps the monitor's control counter (state/control-seq.ts) so host monitors notice it.
 */
import type { RedisClient } from './redis.js';
import { bumpControlSeq } from './control-seq.js';
import { TTL, type KeySpace } from './key-space.js';

/** A mute in force. */
export interface Mute {
  until: number;
  reason: string;
  by: string;
  /** Set by a running fix rather than a person. */
  fix?: boolean;
}

/** The mutes of one host: a person's and a running fix's, either absent. */
export interface HostMutes {
  person?: Mute;
  fix?: Mute;
}

export class MuteStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {}

  private key(host: string, fix = false): string {
    return fix ? this.keys.fixMute(host) : this.keys.mute(host);
  }

  /** Mute `host` for `seconds` (replaces an earlier person's mute). */
  async mute(host: string, seconds: number, reason: string, by: string, now = Date.now()): Promise<Mute> {
    const m: Mute = { until: now + seconds * 1000, reason, by };
    await bumpControlSeq(this.redis.multi().set(this.key(host), JSON.stringify(m), 'PX', Math.max(1, Math.round(seconds * 1000))), this.keys).exec();
    return m;
  }

  /** Lift a person's mute; returns the mute that was in force, if any. */
  async unmute(host: string): Promise<Mute | undefined> {
    const res = await bumpControlSeq(this.redis.multi().getdel(this.key(host)), this.keys).exec();
    const raw = res?.[0]?.[1] as string | null | undefined;
    return raw ? (JSON.parse(raw) as Mute) : undefined;
  }

  /** Mark a clawmedic fix running on `host` (mutes its alerts; expires by itself if never cleared). */
  async setFixRunning(host: string, running: boolean, now = Date.now()): Promise<void> {
    if (!running) {
      await bumpControlSeq(this.redis.multi().del(this.key(host, true)), this.keys).exec();
      return;
    }
    const ms = TTL.fixMuteSec * 1000;
    const m: Mute = { until: now + ms, reason: 'a clawmedic fix is running', by: 'clawmedic', fix: true };
    await bumpControlSeq(this.redis.multi().set(this.key(host, true), JSON.stringify(m), 'PX', ms), this.keys).exec();
  }

  /** The person's mute and the fix mute of `host`, either absent. */
  async get(host: string): Promise<HostMutes> {
    const [p, f] = await this.redis.mget(this.key(host), this.key(host, true));
    return { person: p ? (JSON.parse(p) as Mute) : undefined, fix: f ? (JSON.parse(f) as Mute) : undefined };
  }
}
