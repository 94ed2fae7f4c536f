import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './redis.js';

/**
 * When the connections of this process could not reach Redis (a restart, a Sentinel failover): a job that ran
 * through one can say so in its result. Spans closer than `mergeMs` are one outage (after a failover ioredis
 * reconnects once more when the sentinels announce the switch).
 */
export class RedisOutages {
  private downSince: number | undefined;
  private readonly spans: Array<{ from: number; to: number }> = [];

  constructor(private readonly mergeMs = 2000) {}

  /**
   * Follow `conn`: 'close' starts an outage, 'ready' ends it. A Cluster stays "ready" while one of its masters dies, so
   * there the loss of the master serving the slot of `slotKey` (clawmedic's hash tag) starts an outage too, and it
   * ends when a command on that slot is answered again (by the promoted replica).
   */
  watch(conn: RedisClient, slotKey?: string): this {
    conn.on('close', () => this.down());
    conn.on('ready', () => this.up());
    if (conn instanceof Cluster && slotKey !== undefined) this.watchSlot(conn, slotKey);
    return this;
  }

  private watchSlot(conn: Cluster, key: string): void {
    let slot: number | undefined;
    const learnSlot = () => void conn.cluster('KEYSLOT', key).then((n) => (slot = n), () => undefined);
    learnSlot();
    let probing = false;
    conn.on('-node', (node: Redis) => {
      if (slot === undefined) return learnSlot();
      if (probing || conn.slots[slot]?.[0] !== `${node.options.host}:${node.options.port}`) return;
      probing = true;
      this.down();
      // On a connection that waits failovers out this read returns once the slot has a master again.
      conn.exists(key).then(
        () => this.up(),
        () => undefined,
      ).finally(() => (probing = false));
    });
  }

  private down(): void {
    this.downSince ??= Date.now();
  }

  private up(): void {
    if (this.downSince === undefined) return;
    const span = { from: this.downSince, to: Date.now() };
    this.downSince = undefined;
    const last = this.spans[this.spans.length - 1];
    if (last && span.from - last.to <= this.mergeMs) last.to = span.to;
    else this.spans.push(span);
    if (this.spans.length > 100) this.spans.shift();
  }

  /** Outages that overlap [since, now]: how many and how long in all (an ongoing one counts up to now). */
  since(since: number, now = Date.now()): { count: number; ms: number } {
    const all = [...this.spans, ...(this.downSince !== undefined ? [{ from: this.downSince, to: now }] : [])].filter((x) => x.to >= since);
    return { count: all.length, ms: all.reduce((n, x) => n + (x.to - Math.max(x.from, since)), 0) };
  }
}
