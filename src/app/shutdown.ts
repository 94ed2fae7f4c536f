/**
 * A graceful shutdown that always ends. Running jobs are let finish (a fix stopped half-way leaves a host stopped), but
 * once no job runs, whatever still waits on Redis gets SHUTDOWN.idleGraceMs and each connection SHUTDOWN.quitMs; then
 * it is disconnected. Why: after a Redis failover a BullMQ Worker.close() or a QUIT can wait on a reply that never
 * comes (seen on a Redis Cluster: a reconnect promise that never settled), and a process that never exits on SIGTERM
 * is killed by its supervisor mid-write instead.
 */
import { Worker } from 'bullmq';
import { SHUTDOWN } from '../constants.js';
import type { RedisClient } from '../state/redis.js';
import type { Logger } from '../util/logger.js';

/** Resolves true if `p` settles within `ms`, false otherwise (`p` itself is left to settle, its rejection ignored). */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A worker of the app: a BullMQ Worker, or a group of them (the notify workers, one per platform, as `workers`). */
type AppWorker = { close(): Promise<void> };

/** The BullMQ workers behind an app worker. */
function bullWorkersOf(w: AppWorker): Worker[] {
  const group = (w as { workers?: unknown }).workers;
  if (Array.isArray(group)) return group.filter((x): x is Worker => x instanceof Worker);
  return w instanceof Worker ? [w] : [];
}

/** The jobs the process's workers are running right now: BullMQ's "active" starts one, "completed"/"failed" end it. */
export class RunningJobs {
  private readonly running = new Set<string>();

  watch(w: AppWorker): this {
    for (const worker of bullWorkersOf(w)) {
      const key = (id: string | undefined) => `${worker.name}/${id}`;
      worker.on('active', (job) => this.running.add(key(job.id)));
      worker.on('completed', (job) => this.running.delete(key(job.id)));
      worker.on('failed', (job) => job && this.running.delete(key(job.id)));
    }
    return this;
  }

  get count(): number {
    return this.running.size;
  }
}

/**
 * Close the workers: wait as long as a job runs; once none does, give the closes `idleGraceMs` more, then disconnect
 * the workers that have not closed (their blocking connections). Resolves with the names of those.
 */
export async function closeWorkers(workers: readonly AppWorker[], running: RunningJobs, logger: Logger, idleGraceMs: number = SHUTDOWN.idleGraceMs): Promise<string[]> {
  const pending = new Set(workers);
  const closes = workers.map((w) =>
    w.close().then(
      () => pending.delete(w),
      () => pending.delete(w),
    ),
  );
  const all = Promise.all(closes);
  const step = Math.min(200, idleGraceMs);
  let idleMs = 0;
  while (!(await settlesWithin(all, step))) {
    idleMs = running.count === 0 ? idleMs + step : 0;
    if (idleMs >= idleGraceMs) break;
  }
  const hung = [...pending].map((w) => bullWorkersOf(w).map((x) => x.name).join('+') || 'worker');
  if (hung.length === 0) return [];
  logger.warn(`shutdown: worker ${hung.join(', ')} did not close within ${idleGraceMs / 1000} s with no job running (waiting on Redis); disconnecting it`);
  await Promise.all([...pending].flatMap(bullWorkersOf).map((w) => settlesWithin(Promise.resolve().then(() => w.disconnect()), SHUTDOWN.quitMs)));
  return hung;
}

/** QUIT (what was sent gets its replies), at most `ms`; then the socket is closed either way. */
export async function quitRedis(conn: RedisClient, ms: number = SHUTDOWN.quitMs): Promise<void> {
  if (conn.status === 'end') return;
  const ended = new Promise<void>((r) => conn.once('end', () => r()));
  if (await settlesWithin(Promise.resolve().then(() => conn.quit()), ms)) await settlesWithin(ended, ms);
  // (TypeScript narrowed status at the first line; the awaits above changed it.)
  if ((conn.status as string) !== 'end') conn.disconnect();
}
