/**
 * Which clawmedic processes are alive, so work left behind by a dead one (a fix interrupted by a
 * SIGKILL, an OOM kill, a power cut) is found at once instead of after BullMQ's lock and stall
 * intervals (issue 13.2). Each process has an id per start and a heartbeat key with a short TTL.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import type { RedisClient } from '../state/redis.js';
import { FIX_RECOVERY } from '../constants.js';
import type { ProcessOwner } from '../domain/types.js';
import type { KeySpace } from '../state/key-space.js';

/** Ids of the registries running in this Node process (tests and the demo run several apps in one). */
const LOCAL_IDS = new Set<string>();

function readMachine(): string {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const ns = readlinkSync('/proc/self/ns/pid');
    if (boot && ns) return `${boot}/${ns}`;
  } catch {
    // Not Linux (or /proc hidden): no pid checks, the heartbeat alone decides.
  }
  return `unknown-${randomBytes(8).toString('hex')}`;
}

let machineId: string | undefined;

/** A fresh owner identity for one process start (or one app in a test process). */
export function newProcessOwner(id?: string): ProcessOwner {
  machineId ??= readMachine();
  return { id: id ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`, hostname: os.hostname(), pid: process.pid, machine: machineId };
}

/** Is `pid` a live process here (not a zombie)? EPERM means it exists under another user. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

/** What a liveness check concludes: alive, dead, or not decidable yet (Redis was away too recently). */
export type Liveness = 'alive' | 'dead' | 'unknown';

/**
 * This process's heartbeat (KeySpace.heartbeat, refreshed every FIX_RECOVERY.heartbeatMs) and the
 * liveness check of other owners.
 */
export class ProcessRegistry {
  private timer?: NodeJS.Timeout;
  /** Since when every refresh has succeeded (undefined while Redis is away). */
  private upSince?: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    readonly self: ProcessOwner,
    private readonly timing: { heartbeatMs: number; heartbeatTtlMs: number } = FIX_RECOVERY,
  ) {}

  private key(id: string): string {
    return this.keys.heartbeat(id);
  }

  /** Write the first heartbeat and keep refreshing it until stop(). */
  async start(): Promise<void> {
    LOCAL_IDS.add(this.self.id);
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.timing.heartbeatMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    try {
      await this.redis.set(this.key(this.self.id), JSON.stringify({ ...this.self, at: Date.now() }), 'PX', this.timing.heartbeatTtlMs);
      this.upSince ??= Date.now();
    } catch {
      this.upSince = undefined;
    }
  }

  /** Stop refreshing and remove the heartbeat (a clean shutdown leaves nothing to recover). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    LOCAL_IDS.delete(this.self.id);
    await this.redis.del(this.key(this.self.id)).catch(() => undefined);
  }

  /**
   * Is `owner` alive? Same Node process: whether its registry still runs. Same machine: a pid that is
   * gone is dead at once. Otherwise its heartbeat decides, but only once this process has itself been
   * refreshing for a whole TTL: after Redis was away every heartbeat has expired, the living ones too.
   */
  async liveness(owner: ProcessOwner): Promise<Liveness> {
    if (owner.machine === this.self.machine) {
      if (owner.pid === process.pid) return LOCAL_IDS.has(owner.id) ? 'alive' : 'dead';
      if (!pidAlive(owner.pid)) return 'dead';
      // The pid lives: the owner, or a later process that got its number. The heartbeat tells.
    }
    if ((await this.redis.exists(this.key(owner.id))) === 1) return 'alive';
    const steady = this.upSince !== undefined && Date.now() - this.upSince >= this.timing.heartbeatTtlMs;
    return steady ? 'dead' : 'unknown';
  }
}
