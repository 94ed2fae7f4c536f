/**
 * Shares the hosts out with the other clawmedic processes through Redis leases (state/leases.ts): each
 * round renews what this process holds, takes up to its fair share (and any host nobody held for two
 * rounds), hands one host over when another process has room, and starts or stops the host's follower.
 */
import type { HostConfig } from '../domain/host.js';
import type { Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';
import { fairShare, type LeaseManager } from '../state/leases.js';

/** What runs for a host while this process holds its lease (a HostMonitor). */
export interface Followed {
  start(): Promise<void>;
  /** Flush unless the lease was lost. */
  stop(flush: boolean): Promise<void>;
}

/** Hosts started at once when adopting (SSH connects and Redis reads overlap). */
const ADOPT_BATCH = 25;

export class HostLeases<T extends Followed> {
  /** The hosts this process follows, in the order it took them. */
  readonly owned = new Map<string, T>();
  private readonly orphanRounds = new Map<string, number>();
  private readonly allHosts: string[];
  private round: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly deps: {
      hosts: HostConfig[];
      leases: LeaseManager;
      processId: string;
      leaseMs: number;
      logger: Pick<Logger, 'debug' | 'info'>;
      /** The follower of a host just taken; `lost` is called when a fenced save finds the lease gone. */
      follow(host: HostConfig, lost: (name: string) => void): T;
      /** A round reached Redis (false) or could not (true). */
      onBlind(blind: boolean): void;
    },
  ) {
    this.allHosts = deps.hosts.map((h) => h.name);
  }

  /** The first round, then one every third of the lease period. */
  async start(): Promise<void> {
    await this.runRound();
    this.timer = setInterval(() => void this.runRound(), Math.max(200, Math.floor(this.deps.leaseMs / 3)));
    this.timer.unref?.();
  }

  /** Stop the rounds, flush and release every host, leave the process list. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.round;
    for (const name of [...this.owned.keys()]) {
      await this.drop(name, true).catch(() => undefined);
      await this.deps.leases.release(name).catch(() => undefined);
    }
    await this.deps.leases.leave().catch(() => undefined);
  }

  private runRound(): Promise<void> {
    this.round ??= this.leaseRound().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  private async leaseRound(): Promise<void> {
    if (this.closed) return;
    const { leases } = this.deps;
    try {
      const live = await leases.heartbeat();
      const share = fairShare(this.deps.hosts.length, live.length);
      await this.renewOwned();
      if (this.owned.size < share) await this.adoptShare(share);
      else await this.adoptOrphans();
      if (this.owned.size > share) await this.handOver(live, share);
      this.deps.onBlind(false);
    } catch (err) {
      this.deps.logger.debug({ err: redact(err instanceof Error ? err.message : String(err)) }, 'lease round failed');
      this.deps.onBlind(true);
    }
  }

  private async renewOwned(): Promise<void> {
    const mine = [...this.owned.keys()];
    const renewed = await this.deps.leases.renewAll(mine);
    for (const [i, name] of mine.entries()) {
      if (renewed[i]) continue;
      // Expired while Redis was away and nobody took it: take it back without losing memory.
      if (await this.deps.leases.tryAcquire(name)) continue;
      await this.drop(name, false);
    }
  }

  private async adoptShare(share: number): Promise<void> {
    const { leases } = this.deps;
    const candidates = this.deps.hosts.filter((h) => !this.owned.has(h.name)).sort(() => Math.random() - 0.5);
    // Adopt in parallel batches, renewing what we hold between batches: starting hundreds of hosts
    // one by one takes longer than a lease lives.
    for (let i = 0; i < candidates.length && this.owned.size < share && !this.closed; i += ADOPT_BATCH) {
      const batch = candidates.slice(i, i + Math.min(ADOPT_BATCH, share - this.owned.size));
      await Promise.all(batch.map(async (h) => ((await leases.tryAcquire(h.name)) ? this.adopt(h) : undefined)));
      await leases.renewAll([...this.owned.keys()]);
    }
  }

  /** Beyond our share, still take a host nobody has held for two rounds: never leave one unfollowed. */
  private async adoptOrphans(): Promise<void> {
    const held = await this.deps.leases.holders(this.allHosts);
    for (const [i, h] of this.deps.hosts.entries()) {
      if (this.owned.has(h.name) || this.closed) continue;
      if (held[i] !== null) {
        this.orphanRounds.delete(h.name);
        continue;
      }
      const n = (this.orphanRounds.get(h.name) ?? 0) + 1;
      this.orphanRounds.set(h.name, n);
      if (n >= 2 && (await this.deps.leases.tryAcquire(h.name))) {
        this.orphanRounds.delete(h.name);
        await this.adopt(h);
      }
    }
  }

  /**
   * Another process joined: hand one host over per round (flush first, then release), but only when a
   * live process has room for it, so an adopted orphan is not bounced back and forth.
   */
  private async handOver(live: string[], share: number): Promise<void> {
    const held = await this.deps.leases.holders(this.allHosts);
    const count = (p: string) => held.filter((x) => x === p).length;
    if (live.some((p) => p !== this.deps.processId && count(p) < share)) {
      const name = [...this.owned.keys()].pop()!;
      await this.drop(name, true);
      await this.deps.leases.release(name);
    }
  }

  private async adopt(host: HostConfig): Promise<void> {
    const followed = this.deps.follow(host, (name) => void this.drop(name, false));
    this.owned.set(host.name, followed);
    try {
      await followed.start();
      this.deps.logger.info({ host: host.name, processId: this.deps.processId }, 'following host');
    } catch (err) {
      this.owned.delete(host.name);
      await followed.stop(false);
      await this.deps.leases.release(host.name).catch(() => undefined);
      throw err;
    }
  }

  private async drop(name: string, flush: boolean): Promise<void> {
    const followed = this.owned.get(name);
    if (!followed) return;
    this.owned.delete(name);
    await followed.stop(flush);
    this.deps.logger.info({ host: name, processId: this.deps.processId }, 'no longer following host');
  }
}
