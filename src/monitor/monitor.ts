/**
 * The monitor of one clawmedic process: wires its parts together. Host leases (host-leases.ts) share
 * the hosts out with the other processes and run a HostMonitor per host held; the probe scheduler
 * (jobs/probe.ts) probes any host; the auto-fix policy (auto-fix.ts) queues safe fixes; /mute, /unmute
 * and /ack are alerts/alert-commands.ts. Several processes may run it at once.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { RedisClient } from '../state/redis.js';
import type { AppConfig } from '../config/schema.js';
import type { FixPlan, Verdict } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
import type { RemoteRunner } from '../domain/remote.js';
import type { AuditLog } from '../state/audit-log.js';
import type { HostOps } from '../domain/host-ops.js';
import type { Notifier } from '../jobs/notifier.js';
import { startProbes } from '../jobs/probe.js';
import type { AlertCommands, ButtonIssuer } from '../domain/ports.js';
import type { Logger } from '../util/logger.js';
import { AlertSender } from '../alerts/alert-sender.js';
import { createAlertCommands } from '../alerts/alert-commands.js';
import { MuteStore } from '../state/mute-store.js';
import { MONITOR_DEFAULTS } from '../constants.js';
import { HostMonitor, type HostMonitorDeps } from './host-monitor.js';
import type { KeySpace } from '../state/key-space.js';
import { SharedRead } from './shared-read.js';
import { policyFromConfig, type AlertPolicy } from './incident-machine.js';
import type { Incident } from '../domain/incident.js';
import { IncidentStore } from '../state/incident-store.js';
import { LeaseManager } from '../state/leases.js';
import { readProbes } from '../state/probe-results.js';
import { AckRequests } from '../state/ack-requests.js';
import { BlindNotice } from '../state/blind-notice.js';
import { FixAttempts } from '../state/fix-attempts.js';
import { createAutoFix } from './auto-fix.js';
import { BlindWatch } from './blind-watch.js';
import { HostLeases } from './host-leases.js';

/** What startMonitor needs; main.ts passes its own instances. */
export interface MonitorDeps {
  config: AppConfig;
  hosts: HostConfig[];
  /** Producer connection (finite retries: fails fast while Redis is down, which the monitor reports as "blind"). */
  redis: RedisClient;
  /** Worker connection for the probe worker (maxRetriesPerRequest: null). */
  connection: RedisClient;
  /** Names of the Redis keys, and BullMQ's prefix. */
  keys: KeySpace;
  runner: RemoteRunner;
  ops: HostOps;
  notifier: Pick<Notifier, 'send'>;
  buttons: ButtonIssuer;
  audit: Pick<AuditLog, 'record'>;
  logger: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  /** Unique per process start; default hostname:pid:random. */
  processId?: string;
  /** Lease period: a dead process's hosts are taken over within about this long. */
  leaseMs?: number;
  /** Queue an auto-fix (the same fix job /fix confirms, with its verify step). Host is the inventory name. */
  enqueueFix?(host: string, plan: FixPlan, verdict: Verdict): Promise<void>;
  /** Run probe jobs in this process (default true). */
  probeWorker?: boolean;
  /** This process's incident pictures: warmed while an incident is open, an alert's picture made here ahead (HostMonitorDeps.pictures). */
  pictures?: HostMonitorDeps['pictures'];
  /** Timings for tests and demos; production uses the defaults and clawmedic.yaml. */
  tuning?: Partial<AlertPolicy> & {
    tickMs?: number;
    backoffMinMs?: number;
    backoffMaxMs?: number;
    backlogLines?: number;
    rollCheckSec?: number;
    probeIntervalMs?: number;
    /** Tell the chats about a blind spell once it lasted this long (default 10 s). */
    blindNoticeAfterMs?: number;
  };
}

/** What the monitor gives back to main.ts (and tests). */
export interface MonitorHandle {
  /** Plug into the router as `alerts`. */
  alerts: AlertCommands;
  /** The fix worker calls this around a fix it runs: alerts of that host are muted meanwhile. */
  onFixRunning(host: string, running: boolean): Promise<void>;
  /** Hosts this process follows right now. */
  ownedHosts(): string[];
  /** Open incidents of the hosts this process follows. */
  incidents(): Incident[];
  /** Is this process unable to see (Redis unreachable)? */
  blind(): boolean;
  readonly processId: string;
  close(): Promise<void>;
}

/** Start the monitor in this process. */
export async function startMonitor(deps: MonitorDeps): Promise<MonitorHandle> {
  const { config, redis, keys, logger } = deps;
  const t = deps.tuning ?? {};
  const processId = deps.processId ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const leaseMs = deps.leaseMs ?? MONITOR_DEFAULTS.leaseMs;
  const tickMs = t.tickMs ?? MONITOR_DEFAULTS.tickMs;
  const policy = policyFromConfig(config.alerts, t);
  const probeIntervalMs = t.probeIntervalMs ?? config.alerts.probeIntervalSec * 1000;
  const hostByName = new Map(deps.hosts.map((h) => [h.name, h]));
  const allHosts = deps.hosts.map((h) => h.name);

  const store = new IncidentStore(redis, keys);
  store.leaseMs = leaseMs;
  const mutes = new MuteStore(redis, keys);
  const sender = new AlertSender({ config, notifier: deps.notifier, buttons: deps.buttons });
  const blind = new BlindWatch({ processId, allHosts, notice: new BlindNotice(redis, keys), sender, logger, noticeAfterMs: t.blindNoticeAfterMs ?? 10_000 });
  const probes = await startProbes({ redis, connection: deps.connection, keys, hosts: deps.hosts, ops: deps.ops, logger, intervalMs: probeIntervalMs, worker: deps.probeWorker !== false });
  const autoFix = deps.enqueueFix
    ? createAutoFix({ hosts: hostByName, ops: deps.ops, attempts: FixAttempts.autoFixes(redis, keys), maxPerHour: config.fix.autoFixMaxPerHour, sender, audit: deps.audit, enqueueFix: deps.enqueueFix })
    : undefined;

  // Every host monitor ticks each second and needs every host's probe (to tell "my own network is down"
  // from "that host is down") and the ack/mute counter: each is read once per half tick for the whole
  // process, not once per host.
  const sharedProbes = new SharedRead(() => readProbes(redis, keys, allHosts), tickMs / 2);
  const controlSeq = new SharedRead(() => redis.get(keys.controlSeq()), tickMs / 2);
  const follower = { backlogLines: t.backlogLines, rollCheckSec: t.rollCheckSec, backoffMinMs: t.backoffMinMs, backoffMaxMs: t.backoffMaxMs };
  const perHost: Omit<HostMonitorDeps, 'host' | 'onLeaseLost'> = {
    allHosts, policy, processId, redis, keys, runner: deps.runner, store, mutes, sender, logger,
    probeIntervalMs, tickMs, follower, autoFix, onRedisBlind: (b: boolean) => blind.set(b),
    readAllProbes: () => sharedProbes.get(),
    readControlSeq: () => controlSeq.get(),
    pictures: deps.pictures,
  };

  const hostLeases = new HostLeases<HostMonitor>({
    hosts: deps.hosts, leases: new LeaseManager(redis, keys, processId, leaseMs), processId, leaseMs, logger,
    onBlind: (b) => blind.set(b),
    follow: (host, lost) => new HostMonitor({ ...perHost, host, onLeaseLost: lost }),
  });
  await hostLeases.start();

  /** A control of `host` changed: reread the counter, and evaluate the host now if it is ours. */
  const poke = (host: string, tick: boolean) => {
    controlSeq.invalidate();
    if (tick) hostLeases.owned.get(host)?.tick().catch(() => undefined);
  };
  const acks = new AckRequests(redis, keys);
  let closed = false;

  return {
    alerts: createAlertCommands({ hosts: new Set(allHosts), mutes, incidents: store, acks, poke }),
    processId,
    async onFixRunning(host, running) {
      await mutes.setFixRunning(host, running);
      poke(host, true);
    },
    ownedHosts: () => [...hostLeases.owned.keys()],
    incidents: () => [...hostLeases.owned.values()].flatMap((hm) => hm.snapshot()),
    blind: () => blind.blind,
    async close() {
      if (closed) return;
      closed = true;
      await hostLeases.close();
      await probes.close();
    },
  };
}
