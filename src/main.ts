/**
 * Composition root: config → Redis → queues/workers → adapters → monitor → http.
 * `createApp` wires one process in a given mode; the CLI and the tests both use it, so what
 * is tested is what runs.
 */
import type { Server } from 'node:http';
import { basename } from 'node:path';
import type { Worker } from 'bullmq';
import { Cluster } from 'ioredis';
import type { LoadedConfig } from './config/load-config.js';
import type { ChatAdapter } from './chat/adapter.js';
import { ConsoleAdapter } from './chat/console/console-adapter.js';
import type { Platform } from './domain/types.js';
import type { HostConfig } from './domain/host.js';
import { AuditLog } from './audit/audit-log.js';
import { Router } from './router/router.js';
import { ButtonStore } from './router/button-store.js';
import { createQueues, type Queues } from './jobs/queues.js';
import { createRedis, RedisOutages, redisKeyPrefix, redisTarget, waitForRedis, type RedisClient } from './jobs/redis.js';
import { closeWorkers, quitRedis, RunningJobs, settlesWithin } from './jobs/shutdown.js';
import { createRequestGuards } from './router/request-limits.js';
import { Inflight } from './jobs/inflight.js';
import { FixAttempts } from './jobs/fix-attempts.js';
import { Notifier } from './jobs/notifier.js';
import { startHostWorker } from './jobs/host-worker.js';
import { startFixWorker } from './jobs/fix-worker.js';
import { startNotifyWorker } from './jobs/notify-worker.js';
import { PictureSource } from './alerts/picture-source.js';
import { IncidentStore } from './monitor/incident-store.js';
import type { HostOps } from './jobs/host-ops.js';
import { createRemoteHostOps } from './jobs/remote-host-ops.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { isLoopbackHost, startHttpServer } from './http/http-server.js';
import { createLogger, type Logger } from './util/logger.js';
import type { RemoteRunner } from './domain/remote.js';
import { startMonitor, type MonitorDeps, type MonitorHandle } from './monitor/index.js';
import { alertChatsFor } from './alerts/alert-sender.js';
import { ConfigError } from './domain/errors.js';
import { JOB_KEY_ENV, JobSigner } from './util/job-signer.js';
import { SecretBox } from './util/secret-box.js';
import { DEFAULTS, SHUTDOWN } from './constants.js';
import { describeReceive } from './chat/receive-health.js';
import { startReceiveWatch } from './chat/receive-watch.js';
import { FixRunStore } from './jobs/fix-runs.js';
import { FixRecovery } from './jobs/fix-recovery.js';
import { newProcessOwner, ProcessRegistry } from './jobs/process-registry.js';
import { MuteStore } from './alerts/mute-store.js';

/** What a process runs. */
export interface AppOptions {
  /** Run the workers (diagnose, fix, notify) in this process. */
  workers: boolean;
  /** Chat adapters to start: console is always available when asked; telegram/discord need their tokens. */
  adapters: Array<'console' | 'telegram' | 'discord'>;
  /** Serve /healthz and /metrics. */
  http: boolean;
  /** How long to wait for Redis at start (Infinity for the bot: it waits and says so, it does not crash-loop). */
  redisWaitMs: number;
  logger?: Logger;
  /** Test seams: replace the SSH-backed host operations or the runner. */
  ops?: HostOps;
  runner?: RemoteRunner;
  /** Shorter verify window (tests, demo). */
  verifyWindowSec?: number;
  /** Where the console prints (stdout by default; tests capture it). */
  consoleWrite?: (text: string) => void;
  /** Follow host logs, probe and alert (bot and worker processes; not one-shot runs). */
  monitor?: boolean;
  /** Monitor timings for tests and the demo. */
  monitorTuning?: MonitorDeps['tuning'];
  /** Grace and check period of the adapter receive watch (tests shorten them); defaults from DEFAULTS. */
  receiveWatch?: { graceMs: number; checkMs: number };
  /** Lifetime of result buttons (DEFAULTS.buttonTtlSec; tests shorten it to see them removed). */
  buttonTtlSec?: number;
}

export interface App {
  router: Router;
  queues: Queues;
  redis: RedisClient;
  console?: ConsoleAdapter;
  monitor?: MonitorHandle;
  adapters: Map<Platform, ChatAdapter>;
  workers: Worker[];
  http?: Server;
  metrics: Metrics;
  audit: AuditLog;
  ops: HostOps;
  close(): Promise<void>;
}

/** Build and start one clawmedic process. */
export async function createApp(loaded: LoadedConfig, opts: AppOptions): Promise<App> {
  const { config, secrets } = loaded;
  const logger = opts.logger ?? createLogger();
  // On a Redis Cluster a hash tag ({clawmedic}): every key of the app in one slot (jobs/redis.ts says why).
  const prefix = redisKeyPrefix(config.redis);
  // Every process signs (router: fix jobs, buttons) or verifies (fix worker) what goes through Redis.
  if (!secrets.jobKey) {
    throw new ConfigError(
      `environment: ${JOB_KEY_ENV}: not set. clawmedic signs queued fixes and buttons with it so that write access to Redis alone cannot run anything on a host, ` +
        'and seals with a key derived from it the secrets that pass through Redis (a fresh dashboard link, Discord interaction tokens); ' +
        'set the same value on every clawmedic process (generate one with: openssl rand -hex 32).',
    );
  }
  if (opts.adapters.includes('console') && !config.people.some((p) => p.platform === 'console' && p.userId === config.console.userId)) {
    // Otherwise every command typed at the console is refused as coming from a stranger.
    throw new ConfigError(
      `${basename(loaded.file)}: console.userId: "${config.console.userId}" is not in people; add ` +
        `{ platform: console, userId: ${config.console.userId}, role: admin } to people (or set console.userId to a console person's id)`,
    );
  }
  if (opts.adapters.includes('telegram') && secrets.telegramToken && config.telegram.mode === 'webhook' && !secrets.telegramWebhookSecret) {
    // Telegram sends this secret with every update; without it anyone who finds the URL can post commands as anyone.
    throw new ConfigError(
      'environment: TELEGRAM_WEBHOOK_SECRET: not set, and telegram.mode is webhook. Set 16-256 characters of A-Z a-z 0-9 _ - ' +
        '(e.g. openssl rand -hex 32); Telegram sends it with every update and clawmedic refuses updates without it.',
    );
  }
  const signer = new JobSigner(secrets.jobKey);
  // Seals the secrets that pass through Redis (a fresh dashboard link, Discord interaction tokens): same key source, own label.
  const box = SecretBox.fromJobKey(secrets.jobKey);
  // One target for every connection of the process: REDIS_URL, or its credentials + the sentinels or the cluster nodes.
  const { url: redisUrl, extra: redisTls } = redisTarget(config.redis, secrets);
  await waitForRedis(redisUrl, logger, opts.redisWaitMs, redisTls);

  const redis = createRedis(redisUrl, 'producer', redisTls);
  const workerConn = createRedis(redisUrl, 'worker', redisTls);
  // What workers write while a job runs (steps, results, audit records) waits out a Redis restart or a Sentinel
  // failover instead of failing the job half-way: its own connection with maxRetriesPerRequest null. The router keeps
  // the fail-fast producer. Not BullMQ's worker connection: BullMQ's scripts defined there would weigh on every MULTI.
  const jobRedis = createRedis(redisUrl, 'worker', redisTls);
  for (const c of [redis, workerConn, jobRedis]) c.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  // On a Cluster: the loss of the master of clawmedic's slot, which leaves the connection itself "ready".
  const outages = new RedisOutages().watch(jobRedis, prefix);
  const metrics = createMetrics();
  const queues = createQueues(redis, prefix, (err) => logger.warn({ err: err.message }, 'queue connection error'));
  const audit = new AuditLog(redis, prefix);
  const buttons = new ButtonStore(redis, prefix, signer);
  const inflight = new Inflight(redis, prefix);
  const fixAttempts = new FixAttempts(redis, prefix);
  const notifier = new Notifier(queues, redis, prefix, box);
  const jobQueues = createQueues(jobRedis, prefix, (err) => logger.warn({ err: err.message }, 'queue connection error'));
  const job = {
    redis: jobRedis,
    audit: new AuditLog(jobRedis, prefix),
    buttons: new ButtonStore(jobRedis, prefix, signer),
    inflight: new Inflight(jobRedis, prefix),
    fixAttempts: new FixAttempts(jobRedis, prefix),
    notifier: new Notifier(jobQueues, jobRedis, prefix, box),
  };
  const hosts = new Map<string, HostConfig>(loaded.hosts.map((h) => [h.name, h]));
  // One identity per process start: the monitor's leases and the fix records name the same process.
  const owner = newProcessOwner();
  const fixRuns = new FixRunStore(redis, prefix, signer);
  const router = new Router({ config, queues, buttons, audit, inflight, fixAttempts, logger, notifier, signer, ...createRequestGuards(redis, prefix, config) });

  const adapters = new Map<Platform, ChatAdapter>();
  const closers: Array<() => Promise<unknown>> = [];
  let consoleAdapter: ConsoleAdapter | undefined;
  let subscriber: RedisClient | undefined;

  let ops = opts.ops;
  let runner = opts.runner;
  if (!ops && opts.workers) {
    const built = await createRemoteHostOps(loaded, { logger, metrics, runner: opts.runner, verifyWindowSec: opts.verifyWindowSec ?? config.fix.verifyWindowSec, startWaitSec: config.fix.startWaitSec });
    ops = built.ops;
    runner = built.runner;
    closers.push(() => built.close());
  }

  let monitor: MonitorHandle | undefined;
  if (opts.workers && ops) {
    // Heartbeat first: the fixes this process records must never look like a dead process's.
    const registry = new ProcessRegistry(redis, prefix, owner);
    await registry.start();
    // Lifted through the monitor once it runs (it re-evaluates the host at once), else in Redis directly.
    const releaseAlertHold = (host: string) => (monitor ? monitor.onFixRunning(host, false) : new MuteStore(redis, prefix).setFixRunning(host, false));
    const recovery = new FixRecovery({ redis, prefix, runs: fixRuns, registry, fixQueue: queues.fix, hosts, ops: ops!, notifier, buttons, audit, inflight, releaseAlertHold, logger });
    // Fixes interrupted by a dead process are closed at once, before anything else starts, not after
    // BullMQ's lock and stall intervals (issue 13.2).
    void recovery.start();
    closers.push(() => recovery.close(), () => registry.stop());
  }
  if (opts.monitor && ops && runner) {
    monitor = await startMonitor({
      config,
      hosts: loaded.hosts,
      redis,
      connection: workerConn,
      prefix,
      runner,
      ops,
      notifier,
      buttons,
      audit,
      logger,
      tuning: opts.monitorTuning,
      processId: owner.id,
      enqueueFix: async (host, plan, verdict) => {
        const chat = alertChatsFor(config, host)[0];
        if (!chat) throw new Error(`auto-fix for ${host}: no chat receives its alerts`);
        await router.autoFix(host, plan, verdict, chat);
      },
    });
    router.setAlerts(monitor.alerts);
    closers.unshift(() => monitor!.close());
  }

  // Incident pictures are made where they are sent (notify worker, console), from the series in Redis.
  const pictures = new PictureSource({ redis, prefix, incidents: new IncidentStore(redis, prefix), logger });
  closers.push(() => pictures.close());

  const workers: Worker[] = [];
  // Which jobs run now: a shutdown waits for them, and only for them (src/jobs/shutdown.ts).
  const runningJobs = new RunningJobs();
  if (opts.workers && ops) {
    workers.push(
      // Worker generics differ per queue; the list only needs close()/isRunning().
      startHostWorker({ connection: workerConn, ...job, prefix, hosts, ops, logger, metrics, concurrency: config.jobs.concurrency, confirmTtlSec: config.jobs.confirmTtlSec, buttonTtlSec: opts.buttonTtlSec }) as unknown as Worker,
      // The fix's run record is written as it runs: through the job connection too, so a failover delays it, never fails the fix.
      startFixWorker({ connection: workerConn, ...job, prefix, hosts, ops, logger, metrics, signer, runs: new FixRunStore(jobRedis, prefix, signer), owner, outages, confirmTtlSec: config.jobs.confirmTtlSec, onFixRunning: (host, running) => monitor?.onFixRunning(host, running) ?? Promise.resolve() }) as unknown as Worker,
    );
    // In the same tick as they were made: no job has started yet.
    for (const w of workers) runningJobs.watch(w);
  }

  if (opts.adapters.includes('console')) {
    subscriber = createRedis(redisUrl, 'subscriber', redisTls);
    subscriber.on('error', () => undefined);
    consoleAdapter = new ConsoleAdapter({ router, subscriber, prefix, userId: config.console.userId, write: opts.consoleWrite, box, pictures });
    await consoleAdapter.start();
    adapters.set('console', consoleAdapter);
  }
  let chatAdapters: ChatAdapter[];
  try {
    chatAdapters = await startChatAdapters(loaded, opts, { router, redis: jobRedis, prefix, logger, box });
  } catch (err) {
    // A chat platform refused us (409, bad token): release everything started so far.
    await Promise.allSettled([...adapters.values()].map((a) => a.stop()));
    await Promise.allSettled(workers.map((w) => w.close()));
    await Promise.allSettled(closers.map((c) => c()));
    await queues.close().catch(() => undefined);
    await jobQueues.close().catch(() => undefined);
    subscriber?.disconnect();
    redis.disconnect();
    workerConn.disconnect();
    jobRedis.disconnect();
    throw err;
  }
  for (const a of chatAdapters) adapters.set(a.platform, a);

  // Deliveries for Telegram/Discord are consumed only where those adapters run.
  if (chatAdapters.length > 0) {
    const notifyWorkers = startNotifyWorker({ connection: workerConn, redis: jobRedis, prefix, adapters, logger, audit: job.audit, buttons: job.buttons, box, pictures });
    runningJobs.watch(notifyWorkers);
    workers.push(notifyWorkers as unknown as Worker);
    // An adapter that stops receiving (Telegram 409, Discord gateway gone) is told to the admins elsewhere.
    const watch = startReceiveWatch({
      adapters,
      config,
      notifier,
      audit,
      logger,
      graceMs: opts.receiveWatch?.graceMs ?? DEFAULTS.receiveDownGraceSec * 1000,
      checkMs: opts.receiveWatch?.checkMs ?? DEFAULTS.receiveCheckSec * 1000,
    });
    closers.unshift(async () => watch.close());
  }

  let http: Server | undefined;
  if (opts.http) {
    if (!isLoopbackHost(config.http.host) && !secrets.metricsToken) {
      logger.warn(
        { host: config.http.host, port: config.http.port },
        `http: /metrics is served without authentication on ${config.http.host} (host names and error counts are readable from the network); ` +
          'set CLAWMEDIC_METRICS_TOKEN to require "Authorization: Bearer <token>", or bind http.host to 127.0.0.1',
      );
    }
    http = await startHttpServer({
      host: config.http.host,
      port: config.http.port,
      metricsToken: secrets.metricsToken,
      metrics,
      checks: {
        // On a Cluster PING goes to any node; a read of clawmedic's own slot says whether its master answers.
        redis: async () => ({ ok: redis instanceof Cluster ? (await redis.exists(prefix)) >= 0 : (await redis.ping()) === 'PONG' }),
        workers: async () => ({ ok: workers.every((w) => w.isRunning()), detail: `${workers.length} running` }),
        // An adapter that cannot receive makes the process unhealthy: which one, since when, why.
        adapters: async () => {
          const states = [...adapters].map(([platform, a]) => ({ platform, s: a.receiveState?.() ?? { ok: true as const } }));
          const down = states.filter((x) => !x.s.ok);
          return down.length === 0
            ? { ok: true, detail: [...adapters.keys()].join(',') || 'none' }
            : { ok: false, detail: down.map((x) => describeReceive(x.platform, x.s)).join('; ') };
        },
      },
    });
  }

  let closed = false;
  return {
    router,
    queues,
    redis,
    console: consoleAdapter,
    monitor,
    adapters,
    workers,
    http,
    metrics,
    audit,
    ops: ops ?? unavailableOps(),
    async close() {
      if (closed) return;
      closed = true;
      // Stop taking work first; running jobs finish (BullMQ close waits for them). Bounded once no job runs: after a
      // failover a close or a QUIT can wait on a reply that never comes (src/jobs/shutdown.ts).
      await Promise.allSettled([...adapters.values()].map((a) => a.stop()));
      await closeWorkers(workers, runningJobs, logger);
      await Promise.allSettled(closers.map((c) => c()));
      await settlesWithin(queues.close(), SHUTDOWN.quitMs);
      await settlesWithin(jobQueues.close(), SHUTDOWN.quitMs);
      if (http) await new Promise((r) => http!.close(() => r(undefined)));
      await Promise.all([subscriber, redis, workerConn, jobRedis].map((c) => c && quitRedis(c)));
    },
  };
}

/** Start Telegram/Discord adapters whose credentials are set (and that were asked for). */
async function startChatAdapters(
  loaded: LoadedConfig,
  opts: AppOptions,
  ctx: { router: Router; redis: RedisClient; prefix: string; logger: Logger; box: SecretBox },
): Promise<ChatAdapter[]> {
  const { secrets, config } = loaded;
  const started: ChatAdapter[] = [];
  const wantTelegram = opts.adapters.includes('telegram') && secrets.telegramToken;
  const wantDiscord = opts.adapters.includes('discord') && secrets.discordToken && secrets.discordApplicationId;
  if (!wantTelegram && !wantDiscord) return started;
  const { RedisMessageRefStore } = await import('./chat/message-ref-store.js');
  // On the job connection (ctx.redis), which waits a failover out: the reference of a message just sent must be
  // written, or the delivery fails after the send and its retry sends the message a second time instead of editing it.
  const refs = new RedisMessageRefStore(ctx.redis, ctx.prefix, ctx.box);
  if (wantTelegram) {
    const { TelegramAdapter } = await import('./chat/telegram/telegram-adapter.js');
    const adapter = new TelegramAdapter({
      token: secrets.telegramToken!,
      router: ctx.router,
      refs,
      apiRoot: config.telegram.apiRoot,
      mode: config.telegram.mode,
      webhook: config.telegram.webhook && secrets.telegramWebhookSecret
        ? { ...config.telegram.webhook, secretToken: secrets.telegramWebhookSecret }
        : undefined,
      logger: ctx.logger,
    });
    await adapter.start();
    started.push(adapter);
  }
  if (wantDiscord) {
    const { DiscordAdapter } = await import('./chat/discord/discord-adapter.js');
    const adapter = new DiscordAdapter({
      token: secrets.discordToken!,
      applicationId: secrets.discordApplicationId!,
      guildId: secrets.discordGuildId ?? config.discord.guildId,
      router: ctx.router,
      refs,
      restApi: config.discord.restApi,
      logger: ctx.logger,
    });
    await adapter.start();
    started.push(adapter);
  }
  return started;
}

function unavailableOps(): HostOps {
  const fail = () => {
    throw new Error('host operations run in worker processes only');
  };
  return { status: fail, diagnose: fail, plan: fail, runStep: fail, verify: fail };
}
