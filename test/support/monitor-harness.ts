/**
 * Shared rig of the monitor integration tests: capturing chat adapters behind the real notify
 * worker, a status-only HostOps over the real SSH runner, real OpenClaw 4008/1008 line pairs.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { Worker } from 'bullmq';
import type { ChatAdapter } from '../../src/domain/ports.js';
import { configSchema, type AppConfig } from '../../src/config/schema.js';
import type { HostConfig } from '../../src/domain/host.js';
import type { RemoteRunner } from '../../src/domain/remote.js';
import type { Delivery, Platform } from '../../src/domain/types.js';
import { AuditLog } from '../../src/state/audit-log.js';
import type { HostOps, HostStatus } from '../../src/domain/host-ops.js';
import { Notifier } from '../../src/jobs/notifier.js';
import { startNotifyWorker, type NotifyWorkers } from '../../src/jobs/notify-worker.js';
import { SecretBox } from '../../src/util/secret-box.js';
import { createQueues, type Queues } from '../../src/jobs/queues.js';
import { ButtonStore } from '../../src/state/button-store.js';
import { JobSigner } from '../../src/util/job-signer.js';
import { checkHostStatus } from '../../src/jobs/host-status.js';
import { createLogger } from '../../src/util/logger.js';
import { startMonitor, type MonitorDeps, type MonitorHandle } from '../../src/monitor/index.js';
import { KeySpace } from '../../src/state/key-space.js';

const FX = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/standin/samples');
/** The real pair of WARN lines one stale tab logs per attempt (unauthorized + closed before connect 4008). */
const PAIR = readFileSync(path.join(FX, 'log-stale-tab-loop.jsonl'), 'utf8').split('\n').slice(26, 28);

/** One failed connect as the gateway logs it: fresh conn id, current time, optionally another Origin. */
export function failurePair(opts: { origin?: string; at?: number } = {}): string[] {
  const conn = randomUUID();
  const t = new Date(opts.at ?? Date.now()).toISOString().replace('Z', '+00:00');
  return PAIR.map((l) => {
    let s = l.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (m) => (m.startsWith('eb34b304') ? conn : m));
    s = s.replace(/"(time|date)":"[^"]*"/g, `"$1":"${t}"`);
    if (opts.origin) s = s.split('http://localhost:18789').join(opts.origin);
    return s;
  });
}

/** One message as a chat would show it. */
export interface CapturedMessage {
  id: number;
  messageKey?: string;
  title: string;
  edits: number;
  history: string[];
  buttons: string[];
}

/** A ChatAdapter that records sends and edits (edit = a delivery whose messageKey it has seen). */
export class CapturingAdapter implements ChatAdapter {
  readonly messages: CapturedMessage[] = [];
  private readonly byKey = new Map<string, CapturedMessage>();
  constructor(readonly platform: Platform) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async deliver(d: Delivery): Promise<void> {
    const buttons = (d.reply.buttons ?? []).map((b) => b.label);
    const existing = d.messageKey ? this.byKey.get(d.messageKey) : undefined;
    if (existing) {
      existing.edits++;
      existing.title = d.reply.title;
      existing.history.push(d.reply.title + (d.reply.fields ?? []).map((f) => ` | ${f.name}: ${f.value}`).join(''));
      existing.buttons = buttons;
      return;
    }
    const m: CapturedMessage = { id: this.messages.length + 1, messageKey: d.messageKey, title: d.reply.title, edits: 0, history: [d.reply.title + (d.reply.fields ?? []).map((f) => ` | ${f.name}: ${f.value}`).join('')], buttons };
    this.messages.push(m);
    if (d.messageKey) this.byKey.set(d.messageKey, m);
  }
  /** Messages whose messageKey starts with `prefix`. */
  withKey(prefix: string): CapturedMessage[] {
    return this.messages.filter((m) => m.messageKey?.startsWith(prefix));
  }
}

/** HostOps with only the probe: the app's own status check over SSH (light probe, CLI fallback); SSH failure = unreachable. */
export function statusOps(runner: RemoteRunner): HostOps {
  const unsupported = () => {
    throw new Error('not used by these tests');
  };
  return {
    status: (host: HostConfig): Promise<HostStatus> => checkHostStatus(runner, host, { cliTimeoutMs: 15_000 }),
    diagnose: unsupported,
    plan: unsupported,
    runStep: unsupported,
    verify: unsupported,
  };
}

/** A valid AppConfig for `hosts`: one Telegram group seeing all hosts, one Discord channel seeing the first. */
export function monitorConfig(hosts: HostConfig[], alerts: Partial<AppConfig['alerts']> = {}): AppConfig {
  return configSchema.parse({
    hosts,
    people: [{ platform: 'telegram', userId: '111', role: 'admin', name: 'alice' }],
    chats: [
      { platform: 'telegram', chatId: '-1001', hosts: ['*'], alerts: true },
      { platform: 'discord', chatId: '900', hosts: [hosts[0]!.name], alerts: true },
      { platform: 'discord', chatId: '901', hosts: ['*'], alerts: false },
    ],
    alerts: { probeIntervalSec: 1, fireAfterEvents: 3, fireWindowSec: 60, probeFailuresToFire: 2, resolveAfterSec: 3, reminderIntervalSec: 3600, ...alerts },
  });
}

/** Everything one clawmedic process of the tests runs: queues, notify worker with capturing adapters, the monitor. */
export interface Rig {
  monitor: MonitorHandle;
  telegram: CapturingAdapter;
  discord: CapturingAdapter;
  redis: Redis;
  queues: Queues;
  close(): Promise<void>;
}

export async function startRig(opts: {
  redisUrl: string;
  prefix: string;
  hosts: HostConfig[];
  runner: RemoteRunner;
  config: AppConfig;
  leaseMs?: number;
  processId?: string;
  tuning?: MonitorDeps['tuning'];
  adapters?: { telegram: CapturingAdapter; discord: CapturingAdapter };
  /** Consume the notify queue here (default true); a second process may leave it to the first. */
  notifyWorker?: boolean;
}): Promise<Rig> {
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 2, retryStrategy: () => 200 });
  const connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, retryStrategy: () => 200 });
  for (const c of [redis, connection]) c.on('error', () => undefined);
  const logger = createLogger(process.env.LOG_LEVEL ?? 'silent');
  const queues = createQueues(redis, new KeySpace(opts.prefix));
  const box = SecretBox.ephemeral();
  for (const q of [queues.diagnose, queues.fix, ...Object.values(queues.notify)]) q.on('error', () => undefined);
  const telegram = opts.adapters?.telegram ?? new CapturingAdapter('telegram');
  const discord = opts.adapters?.discord ?? new CapturingAdapter('discord');
  const adapters = new Map<Platform, ChatAdapter>([
    ['telegram', telegram],
    ['discord', discord],
  ]);
  const notifyWorker: NotifyWorkers | undefined =
    opts.notifyWorker === false ? undefined : startNotifyWorker({ connection, redis, keys: new KeySpace(opts.prefix), adapters, logger, buttons: new ButtonStore(redis, new KeySpace(opts.prefix), JobSigner.ephemeral()), box });
  const monitor = await startMonitor({
    config: opts.config,
    hosts: opts.hosts,
    redis,
    connection,
    keys: new KeySpace(opts.prefix),
    runner: opts.runner,
    ops: statusOps(opts.runner),
    notifier: new Notifier(queues, redis, new KeySpace(opts.prefix), box),
    buttons: new ButtonStore(redis, new KeySpace(opts.prefix), JobSigner.ephemeral()),
    audit: new AuditLog(redis, new KeySpace(opts.prefix)),
    logger,
    processId: opts.processId,
    leaseMs: opts.leaseMs ?? 3000,
    tuning: { tickMs: 200, editMinIntervalMs: 300, backoffMinMs: 200, backoffMaxMs: 1000, probeIntervalMs: 1000, ...opts.tuning },
  });
  return {
    monitor,
    telegram,
    discord,
    redis,
    queues,
    async close() {
      await monitor.close();
      await notifyWorker?.close();
      await queues.close();
      redis.disconnect();
      connection.disconnect();
    },
  };
}

/** Poll until `cond` holds or `ms` pass; returns whether it held. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, stepMs = 100): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
