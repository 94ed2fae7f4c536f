/**
 * The work a worker process does, started in order: the recovery of fixes a dead process left, the
 * monitor, the diagnose and fix workers, and (where chat adapters run) the notify workers with the
 * watch that tells admins when an adapter stops receiving.
 */
import type { KeySpace } from '../state/key-space.js';
import type { ChatAdapter } from '../domain/ports.js';
import { startReceiveWatch } from '../chat/receive-watch.js';
import type { LoadedConfig } from '../config/load-config.js';
import { DEFAULTS } from '../constants.js';
import type { HostConfig } from '../domain/host.js';
import type { RemoteRunner } from '../domain/remote.js';
import type { Platform } from '../domain/types.js';
import { alertChatsFor } from '../alerts/alert-sender.js';
import { MuteStore } from '../state/mute-store.js';
import { IncidentStore } from '../state/incident-store.js';
import { PictureSource } from '../alerts/picture-source.js';
import type { Metrics } from '../http/metrics.js';
import { startFixWorker } from '../jobs/fix-worker.js';
import { FixRecovery } from '../jobs/fix-recovery.js';
import { FixRunStore } from '../state/fix-runs.js';
import type { HostOps } from '../domain/host-ops.js';
import { startHostWorker } from '../jobs/host-worker.js';
import { startNotifyWorker } from '../jobs/notify-worker.js';
import { ProcessRegistry } from '../jobs/process-registry.js';
import type { ProcessOwner } from '../domain/types.js';
import type { RedisOutages } from '../state/redis-outages.js';
import { startMonitor, type MonitorDeps, type MonitorHandle } from '../monitor/index.js';
import type { Router } from '../router/router.js';
import type { JobSigner } from '../util/job-signer.js';
import type { Logger } from '../util/logger.js';
import type { SecretBox } from '../util/secret-box.js';
import type { RedisConnections } from './redis-connections.js';
import type { Stores } from './stores.js';

/** What the process needs of a running worker (BullMQ's Worker, or the notify workers together). */
export interface AppWorker {
  close(): Promise<void>;
  isRunning(): boolean;
}

/** What every part started here is given. */
export interface WorkContext {
  loaded: LoadedConfig;
  connections: RedisConnections;
  keys: KeySpace;
  /** Stores on the producer connection (router side). */
  stores: Stores;
  /** Stores on the job connection (what workers write while a job runs). */
  job: Stores;
  hosts: Map<string, HostConfig>;
  owner: ProcessOwner;
  signer: JobSigner;
  logger: Logger;
}

/**
 * Close fixes interrupted by a dead process at once, before anything else starts, not after BullMQ's
 * lock and stall intervals (issue 13.2). Returns its closers. `monitor` is read when an alert hold is lifted.
 */
export async function startFixRecovery(ctx: WorkContext, ops: HostOps, monitor: () => MonitorHandle | undefined): Promise<Array<() => Promise<unknown>>> {
  const { redis } = ctx.connections;
  const { keys, hosts, logger } = ctx;
  const fixRuns = new FixRunStore(redis, keys, ctx.signer);
  const { queues, notifier, buttons, audit, inflight } = ctx.stores;
  // Heartbeat first: the fixes this process records must never look like a dead process's.
  const registry = new ProcessRegistry(redis, keys, ctx.owner);
  await registry.start();
  // Lifted through the monitor once it runs (it re-evaluates the host at once), else in Redis directly.
  const releaseAlertHold = (host: string) => {
    const m = monitor();
    return m ? m.onFixRunning(host, false) : new MuteStore(redis, keys).setFixRunning(host, false);
  };
  const recovery = new FixRecovery({ redis, keys, runs: fixRuns, registry, fixQueue: queues.fix, hosts, ops, notifier, buttons, audit, inflight, releaseAlertHold, logger });
  void recovery.start();
  return [() => recovery.close(), () => registry.stop()];
}

/**
 * Follow host logs, probe and alert; auto-fixes go through the router to the first chat that receives
 * the host's alerts, and the router's alert commands go to the monitor. Its close runs first of `closers`.
 */
export async function startAppMonitor(
  ctx: WorkContext,
  router: Router,
  ops: HostOps,
  runner: RemoteRunner,
  parts: { tuning: MonitorDeps['tuning']; pictures: PictureSource },
  closers: Array<() => Promise<unknown>>,
): Promise<MonitorHandle> {
  const { config, hosts } = ctx.loaded;
  const { notifier, buttons, audit } = ctx.stores;
  const monitor = await startMonitor({
    config,
    hosts,
    redis: ctx.connections.redis,
    connection: ctx.connections.workerConn,
    keys: ctx.keys,
    runner,
    ops,
    notifier,
    buttons,
    audit,
    logger: ctx.logger,
    tuning: parts.tuning,
    processId: ctx.owner.id,
    pictures: parts.pictures,
    enqueueFix: async (host, plan, verdict) => {
      const chat = alertChatsFor(config, host)[0];
      if (!chat) throw new Error(`auto-fix for ${host}: no chat receives its alerts`);
      await router.autoFix(host, plan, verdict, chat);
    },
  });
  router.setAlerts(monitor.alerts);
  closers.unshift(() => monitor.close());
  return monitor;
}

/**
 * The work side of a process, in order: the recovery of fixes a dead process left, the incident pictures, the
 * monitor (where it runs), the job workers (where they run). Their closers go to `closers`, the workers to
 * `workers` and `running`.
 */
export async function startWork(
  ctx: WorkContext,
  router: Router,
  { ops, runner }: { ops: HostOps | undefined; runner: RemoteRunner | undefined },
  opts: { workers: boolean; monitor?: boolean; monitorTuning?: MonitorDeps['tuning']; buttonTtlSec?: number },
  parts: { metrics: Metrics; outages: RedisOutages; running: { watch(w: AppWorker): void }; workers: AppWorker[]; closers: Array<() => Promise<unknown>> },
): Promise<{ monitor: MonitorHandle | undefined; pictures: PictureSource }> {
  const { redis } = ctx.connections;
  const { keys, logger } = ctx;
  const { closers } = parts;
  let monitor: MonitorHandle | undefined;
  if (opts.workers && ops) closers.push(...(await startFixRecovery(ctx, ops, () => monitor)));
  // Incident pictures, from the series in Redis: made ahead by the monitor at an alert and by the host worker
  // after a diagnose (each warms its renderer when the picture becomes foreseeable), else where they are sent.
  const pictures = new PictureSource({ redis, keys, incidents: new IncidentStore(redis, keys), logger });
  closers.push(() => pictures.close());
  if (opts.monitor && ops && runner) monitor = await startAppMonitor(ctx, router, ops, runner, { tuning: opts.monitorTuning, pictures }, closers);
  if (opts.workers && ops) {
    const jobWorkers = startJobWorkers(ctx, ops, parts.metrics, parts.outages, { buttonTtlSec: opts.buttonTtlSec, monitor: () => monitor, pictures });
    // Watched in the tick they were made in: no job has started yet.
    for (const w of jobWorkers) parts.running.watch(w);
    parts.workers.push(...jobWorkers);
  }
  return { monitor, pictures };
}

/** The diagnose/status worker and the fix worker, writing through the job connection. */
export function startJobWorkers(
  ctx: WorkContext,
  ops: HostOps,
  metrics: Metrics,
  outages: RedisOutages,
  extra: { buttonTtlSec: number | undefined; monitor: () => MonitorHandle | undefined; pictures: PictureSource },
): AppWorker[] {
  const { config } = ctx.loaded;
  const { keys, hosts, logger, signer, owner } = ctx;
  const { workerConn: connection, jobRedis } = ctx.connections;
  const { audit, buttons, inflight, fixAttempts, notifier } = ctx.job;
  const job = { redis: jobRedis, audit, buttons, inflight, fixAttempts, notifier };
  const confirmTtlSec = config.jobs.confirmTtlSec;
  return [
    startHostWorker({ connection, ...job, incidents: new IncidentStore(jobRedis, keys), keys, hosts, ops, logger, metrics, concurrency: config.jobs.concurrency, confirmTtlSec, buttonTtlSec: extra.buttonTtlSec, pictures: extra.pictures }),
    // The fix's run record is written as it runs: through the job connection too, so a failover delays it, never fails the fix.
    startFixWorker({ connection, ...job, keys, hosts, ops, logger, metrics, signer, runs: new FixRunStore(jobRedis, keys, signer), owner, outages, confirmTtlSec, onFixRunning: (host, running) => extra.monitor()?.onFixRunning(host, running) ?? Promise.resolve() }),
  ];
}

/**
 * Deliveries for Telegram/Discord are consumed only where those adapters run; an adapter that stops
 * receiving (Telegram 409, Discord gateway gone) is told to the admins elsewhere. Returns the worker and the watch's closer.
 */
export function startDeliveries(
  ctx: WorkContext,
  adapters: Map<Platform, ChatAdapter>,
  box: SecretBox,
  pictures: PictureSource,
  receiveWatch: { graceMs: number; checkMs: number } | undefined,
): { worker: AppWorker; close: () => Promise<void> } {
  const { config } = ctx.loaded;
  const { keys, logger } = ctx;
  const worker = startNotifyWorker({ connection: ctx.connections.workerConn, redis: ctx.connections.jobRedis, keys, adapters, logger, audit: ctx.job.audit, buttons: ctx.job.buttons, box, pictures });
  const watch = startReceiveWatch({
    adapters,
    config,
    notifier: ctx.stores.notifier,
    audit: ctx.stores.audit,
    logger,
    graceMs: receiveWatch?.graceMs ?? DEFAULTS.receiveDownGraceSec * 1000,
    checkMs: receiveWatch?.checkMs ?? DEFAULTS.receiveCheckSec * 1000,
  });
  return { worker, close: async () => watch.close() };
}
