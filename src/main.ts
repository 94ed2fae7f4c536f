/**
 * Composition root: config → Redis → queues/workers → adapters → monitor → http.
 * `createApp` wires one process in a given mode; the CLI and the tests both use it, so what
 * is tested is what runs.
 */
import type { Server } from 'node:http';
import type { LoadedConfig } from './config/load-config.js';
import type { ChatAdapter } from './domain/ports.js';
import type { ConsoleAdapter } from './chat/console/console-adapter.js';
import type { Platform } from './domain/types.js';
import type { HostConfig } from './domain/host.js';
import type { RemoteRunner } from './domain/remote.js';
import type { AuditLog } from './state/audit-log.js';
import { Router } from './router/router.js';
import { createRequestGuards } from './router/request-limits.js';
import type { Queues } from './jobs/queues.js';
import type { RedisClient } from './state/redis.js';
import { RedisOutages } from './state/redis-outages.js';
import type { HostOps } from './domain/host-ops.js';
import { createRemoteHostOps } from './jobs/remote-host-ops.js';
import { newProcessOwner } from './jobs/process-registry.js';
import { KeySpace } from './state/key-space.js';
import type { MonitorDeps, MonitorHandle } from './monitor/index.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { createLogger, type Logger } from './util/logger.js';
import { JobSigner } from './util/job-signer.js';
import { SecretBox } from './util/secret-box.js';
import { startChatAdapters, startConsoleAdapter, type AdapterName } from './app/chat-adapters.js';
import { startHttpEndpoint } from './app/http-endpoint.js';
import { checkStartConfig } from './app/preflight.js';
import { connectRedis } from './app/redis-connections.js';
import { createStores } from './app/stores.js';
import { RunningJobs } from './app/shutdown.js';
import { releaseAll } from './app/teardown.js';
import { startDeliveries, startWork, type AppWorker, type WorkContext } from './app/workers.js';

/** What a process runs. */
export interface AppOptions {
  /** Run the workers (diagnose, fix, notify) in this process. */
  workers: boolean;
  /** Chat adapters to start: console is always available when asked; telegram/discord need their tokens. */
  adapters: AdapterName[];
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
  workers: AppWorker[];
  http?: Server;
  metrics: Metrics;
  audit: AuditLog;
  ops: HostOps;
  close(): Promise<void>;
}

/** Build and start one clawmedic process. */
export async function createApp(loaded: LoadedConfig, opts: AppOptions): Promise<App> {
  const { config } = loaded;
  const logger = opts.logger ?? createLogger();
  // On a Redis Cluster a hash tag ({clawmedic}): every key of the app in one slot (state/key-space.ts says why).
  const keys = KeySpace.forConfig(config.redis);
  const jobKey = checkStartConfig(loaded, opts.adapters);
  const signer = new JobSigner(jobKey);
  // Seals the secrets that pass through Redis (a fresh dashboard link, Discord interaction tokens): same key source, own label.
  const box = SecretBox.fromJobKey(jobKey);
  const connections = await connectRedis(loaded, logger, opts.redisWaitMs);
  const { redis, jobRedis } = connections;
  // On a Cluster: the loss of the master of clawmedic's slot, which leaves the connection itself "ready".
  const outages = new RedisOutages().watch(jobRedis, keys.slotKey);
  const metrics = createMetrics();
  const stores = createStores(redis, keys, signer, box, logger);
  const job = createStores(jobRedis, keys, signer, box, logger);
  const hosts = new Map<string, HostConfig>(loaded.hosts.map((h) => [h.name, h]));
  // One identity per process start: the monitor's leases and the fix records name the same process.
  const ctx: WorkContext = { loaded, connections, keys, stores, job, hosts, owner: newProcessOwner(), signer, logger };
  const { queues, audit } = stores;
  const router = new Router({ config, ...stores, logger, signer, ...createRequestGuards(redis, keys, config) });

  const adapters = new Map<Platform, ChatAdapter>();
  const closers: Array<() => Promise<unknown>> = [];
  const workers: AppWorker[] = [];
  // Which jobs run now: a shutdown waits for them, and only for them (app/shutdown.ts).
  const running = new RunningJobs();
  // Shutdown is the same whether close() is called or a chat platform refuses us at start.
  const release = (http?: Server) =>
    releaseAll({ adapters: adapters.values(), workers, closers, queues: [queues, job.queues], connections, running, logger, ...(http ? { http } : {}) });

  const { ops, runner } = await hostOperations(loaded, opts, { logger, metrics }, closers);
  const { monitor, pictures } = await startWork(ctx, router, { ops, runner }, opts, { metrics, outages, running, workers, closers });

  const consoleAdapter = opts.adapters.includes('console')
    ? await startConsoleAdapter({ router, subscriber: connections.subscriber(), keys, userId: config.console.userId, write: opts.consoleWrite, box, pictures })
    : undefined;
  if (consoleAdapter) adapters.set('console', consoleAdapter);
  let chatAdapters: ChatAdapter[];
  try {
    chatAdapters = await startChatAdapters(loaded, opts.adapters, { router, redis: jobRedis, keys, logger, box });
  } catch (err) {
    // A chat platform refused us (409, bad token): release everything started so far.
    await release();
    throw err;
  }
  for (const a of chatAdapters) adapters.set(a.platform, a);
  if (chatAdapters.length > 0) {
    const deliveries = startDeliveries(ctx, adapters, box, pictures, opts.receiveWatch);
    running.watch(deliveries.worker);
    workers.push(deliveries.worker);
    closers.unshift(deliveries.close);
  }

  const http = opts.http ? await startHttpEndpoint(loaded, { redis, keys, metrics, workers, adapters, logger }) : undefined;
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
      await release(http);
    },
  };
}

/**
 * The host operations: given (tests), or SSH-backed in a worker process (their runner closes with the
 * process); none in a process that runs no workers.
 */
async function hostOperations(
  loaded: LoadedConfig,
  opts: AppOptions,
  deps: { logger: Logger; metrics: Metrics },
  closers: Array<() => Promise<unknown>>,
): Promise<{ ops: HostOps | undefined; runner: RemoteRunner | undefined }> {
  if (opts.ops || !opts.workers) return { ops: opts.ops, runner: opts.runner };
  const { config } = loaded;
  const built = await createRemoteHostOps(loaded, { ...deps, runner: opts.runner, verifyWindowSec: opts.verifyWindowSec ?? config.fix.verifyWindowSec, startWaitSec: config.fix.startWaitSec });
  closers.push(() => built.close());
  return { ops: built.ops, runner: built.runner };
}

function unavailableOps(): HostOps {
  const fail = () => {
    throw new Error('host operations run in worker processes only');
  };
  return { status: fail, diagnose: fail, plan: fail, runStep: fail, verify: fail };
}
