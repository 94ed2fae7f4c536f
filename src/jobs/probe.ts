/**
 * The scheduled probe: a BullMQ job scheduler per host runs the read-only status check
 * (`HostOps.status`: the light probe — ss, GET /healthz, /proc — with `openclaw gateway status --json`
 * only as its fallback; never a guessed credential) on any process's worker, and stores the latest
 * result with consecutive counts. /healthz needs no token, so a token mismatch is not a probe failure:
 * the log follower sees those.
 * The process that holds the host's lease reads it from there (state/probe-results.ts). The queue sits
 * beside the other queues of jobs/; the monitor only starts it (startProbes).
 */
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { RedisClient } from '../state/redis.js';
import { MONITOR_DEFAULTS, QUEUES } from '../constants.js';
import type { Cause } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
import type { HostOps, HostStatus } from '../domain/host-ops.js';
import type { Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';
import { sampleSpec } from '../state/host-series.js';
import { storeProbe, type ProbeResult } from '../state/probe-results.js';
import type { KeySpace } from '../state/key-space.js';
import { queueConnection } from './queues.js';

/** Job name in the probe queue. */
export const PROBE_JOB = 'probe';

/** Which incident a probe result points to (undefined = healthy). */
export function probeFamily(s: Pick<HostStatus, 'reachable' | 'probeOk' | 'probeError' | 'listening' | 'portConflict'>): Cause | undefined {
  if (!s.reachable) return 'host_unreachable';
  if (s.probeOk) return undefined;
  if (s.portConflict) return 'port_conflict';
  const err = s.probeError ?? '';
  if (/rejected websocket upgrade|not as an OpenClaw gateway|not by the OpenClaw gateway/i.test(err)) return 'port_conflict';
  // Only the CLI fallback's RPC probe presents a token; /healthz never does.
  if (/token|unauthori[sz]ed|auth/i.test(err)) return 'token_mismatch';
  return 'gateway_down';
}

/** Store one status as the host's latest probe result; returns it with counts and seq. */
export async function recordProbe(redis: RedisClient, keys: KeySpace, host: string, s: HostStatus, at = Date.now()): Promise<ProbeResult> {
  const family = probeFamily(s);
  const detail = redact((s.reachable ? s.probeError ?? (s.probeOk ? 'probe ok' : 'probe failed') : s.error ?? 'host unreachable').slice(0, 300));
  // Memory for the incident picture: host memory % and, where the status has it, the gateway's RSS.
  const samples = s.reachable
    ? sampleSpec(at, { mem: s.memoryUsedPct, rss: s.gatewayRssMb })
    : '';
  return storeProbe(redis, keys, host, { at, reachable: s.reachable, probeOk: s.reachable && s.probeOk, family, detail }, samples);
}

/** The probe queue with one job scheduler per host (idempotent: every process may call it). */
export async function scheduleProbes(queue: Queue, hosts: HostConfig[], intervalMs: number): Promise<void> {
  for (const h of hosts) {
    await queue.upsertJobScheduler(`probe:${h.name}`, { every: intervalMs }, {
      name: PROBE_JOB,
      data: { host: h.name },
      opts: { removeOnComplete: { count: 50 }, removeOnFail: { count: 50 }, attempts: 1 },
    });
  }
}

/** Create the probe queue (producer connection). */
export function createProbeQueue(connection: ConnectionOptions, keys: KeySpace): Queue {
  return new Queue(QUEUES.probe, { connection, prefix: keys.prefix });
}

/** Run probes in this process; a failing status check is a result too ("unreachable"), never a thrown job. */
export function startProbeWorker(opts: {
  connection: ConnectionOptions;
  redis: RedisClient;
  keys: KeySpace;
  hosts: Map<string, HostConfig>;
  ops: Pick<HostOps, 'status'>;
  logger: Pick<Logger, 'warn' | 'debug' | 'error'>;
  concurrency?: number;
  timeoutMs?: number;
}): Worker {
  const timeoutMs = opts.timeoutMs ?? MONITOR_DEFAULTS.probeTimeoutMs;
  const worker = new Worker<{ host: string }>(
    QUEUES.probe,
    async (job) => {
      const host = opts.hosts.get(job.data.host);
      if (!host) return; // removed from the inventory
      const started = Date.now();
      let status: HostStatus;
      try {
        status = await withTimeout(opts.ops.status(host), timeoutMs);
      } catch (err) {
        status = { host: host.name, reachable: false, probeOk: false, error: redact(err instanceof Error ? err.message : String(err)), durationMs: Date.now() - started };
      }
      const r = await recordProbe(opts.redis, opts.keys, host.name, status);
      opts.logger.debug({ host: host.name, reachable: r.reachable, probeOk: r.probeOk, family: r.family }, 'probe');
    },
    { connection: opts.connection, prefix: opts.keys.prefix, concurrency: opts.concurrency ?? 4 },
  );
  worker.on('error', (err) => opts.logger.warn({ err: redact(err.message) }, 'probe worker error'));
  return worker;
}

/** The probes of a monitor process: the queue with its schedulers, and (unless asked not to) a worker. */
export interface Probes {
  close(): Promise<void>;
}

/**
 * Schedule a probe of every host (on its own duplicate of the producer connection, see queueConnection)
 * and run probe jobs in this process unless `worker` is false.
 */
export async function startProbes(opts: {
  redis: RedisClient;
  /** Worker connection (maxRetriesPerRequest: null). */
  connection: ConnectionOptions;
  keys: KeySpace;
  hosts: HostConfig[];
  ops: Pick<HostOps, 'status'>;
  logger: Pick<Logger, 'warn' | 'debug' | 'error'>;
  intervalMs: number;
  worker: boolean;
}): Promise<Probes> {
  const { redis, keys, logger } = opts;
  const probeConnection = queueConnection(redis);
  const queue = createProbeQueue(probeConnection.connection, keys);
  queue.on('error', (err) => logger.debug({ err: redact(err.message) }, 'probe queue error'));
  await scheduleProbes(queue, opts.hosts, opts.intervalMs);
  const worker = opts.worker
    ? startProbeWorker({ connection: opts.connection, redis, keys, hosts: new Map(opts.hosts.map((h) => [h.name, h])), ops: opts.ops, logger })
    : undefined;
  return {
    async close() {
      await worker?.close();
      await queue.close();
      probeConnection.close();
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`status check timed out after ${Math.round(ms / 1000)} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
