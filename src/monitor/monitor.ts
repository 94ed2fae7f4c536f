/**
 * The monitor of one clawmedic process: shares the hosts out with the other processes through
 * Redis leases, runs a HostMonitor per host it holds, runs probes for any host (BullMQ job
 * scheduler), and answers /mute, /unmute and /ack. Several processes may run it at once.
 */
import { humanDuration } from '../util/human-duration.js';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Queue, Worker } from 'bullmq';
import type { RedisClient } from '../state/redis.js';
import type { AppConfig } from '../config/schema.js';
import type { FixPlan, Verdict } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
import type { RemoteRunner } from '../domain/remote.js';
import type { Actor, Reply } from '../domain/types.js';
import type { AuditLog } from '../state/audit-log.js';
import type { HostOps } from '../domain/host-ops.js';
import { queueConnection } from '../jobs/queues.js';
import type { Notifier } from '../jobs/notifier.js';
import type { AlertCommands, ButtonIssuer } from '../domain/ports.js';
import type { Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';
import { AlertSender } from '../alerts/alert-sender.js';
import { MuteStore } from '../state/mute-store.js';
import { CAUSE_LABELS, renderBlind } from '../alerts/render-incident.js';
import { AUTO_FIXABLE_CAUSES, MONITOR_DEFAULTS } from '../monitor-constants.js';
import { HostMonitor, type AckRequest } from './host-monitor.js';
import { bumpControlSeq } from '../state/control-seq.js';
import { TTL, type KeySpace } from '../state/key-space.js';
import { SharedRead } from './shared-read.js';
import { policyFromConfig, type AlertPolicy } from './incident-machine.js';
import type { Incident } from '../domain/incident.js';
import { IncidentStore } from '../state/incident-store.js';
import { fairShare, LeaseManager } from '../state/leases.js';
import { createProbeQueue, readProbes, scheduleProbes, startProbeWorker } from './probe.js';

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

function actorName(a: Actor): string {
  return a.displayName ?? `${a.platform}:${a.userId}`;
}

function whenShort(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}

/** Start the monitor in this process. */
export async function startMonitor(deps: MonitorDeps): Promise<MonitorHandle> {
  const { config, redis, keys, logger } = deps;
  const t = deps.tuning ?? {};
  const processId = deps.processId ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const leaseMs = deps.leaseMs ?? MONITOR_DEFAULTS.leaseMs;
  const policy = policyFromConfig(config.alerts, t);
  const probeIntervalMs = t.probeIntervalMs ?? config.alerts.probeIntervalSec * 1000;
  const hostByName = new Map(deps.hosts.map((h) => [h.name, h]));
  const allHosts = deps.hosts.map((h) => h.name);

  const store = new IncidentStore(redis, keys);
  store.leaseMs = deps.leaseMs ?? MONITOR_DEFAULTS.leaseMs;
  const mutes = new MuteStore(redis, keys);
  const sender = new AlertSender({ config, notifier: deps.notifier, buttons: deps.buttons });
  const leases = new LeaseManager(redis, keys, processId, leaseMs);
  const owned = new Map<string, HostMonitor>();
  let closed = false;
  let blindSince: number | undefined;

  const probeConnection = queueConnection(redis);
  const probeQueue: Queue = createProbeQueue(probeConnection.connection, keys);
  probeQueue.on('error', (err) => logger.debug({ err: redact(err.message) }, 'probe queue error'));
  await scheduleProbes(probeQueue, deps.hosts, probeIntervalMs);
  const probeWorker: Worker | undefined =
    deps.probeWorker === false
      ? undefined
      : startProbeWorker({ connection: deps.connection, redis, keys, hosts: hostByName, ops: deps.ops, logger });

  const setBlind = (blind: boolean) => {
    if (blind && blindSince === undefined) {
      blindSince = Date.now();
      logger.warn({ processId }, 'clawmedic is blind: Redis is unreachable; not reporting any host as down');
    } else if (!blind && blindSince !== undefined) {
      const since = blindSince;
      blindSince = undefined;
      logger.info({ processId, blindMs: Date.now() - since }, 'clawmedic can see again');
      // Tell the chats once (across processes) that there was a gap; held alerts follow.
      void (async () => {
        if (Date.now() - since < (t.blindNoticeAfterMs ?? 10_000)) return;
        const first = await redis.set(keys.blindNotice(), processId, 'EX', TTL.blindNoticeSec, 'NX');
        if (first !== 'OK') return;
        await sender.notice(allHosts, renderBlind('Redis was unreachable; clawmedic could not see or send anything', since), `blind:${since}`);
      })().catch(() => undefined);
    }
  };

  const autoFix = deps.enqueueFix
    ? async (inc: Incident, note: (what: string) => void): Promise<void> => {
        const host = hostByName.get(inc.host);
        if (!host || !AUTO_FIXABLE_CAUSES.has(inc.cause)) return;
        const key = keys.autoFixes(host.name);
        const now = Date.now();
        await redis.zremrangebyscore(key, 0, now - TTL.fixWindowMs);
        const used = await redis.zcard(key);
        const max = config.fix.maxAttemptsPerHour;
        if (used >= max) {
          note(`auto-fix stopped: ${used} auto-fixes in the last hour (limit ${max})`);
          await sender.escalate(inc, `Auto-fix ran ${used} times in the last hour and ${inc.host} is still failing; it stops here.`);
          await deps.audit.record({ event: 'escalated', action: 'autofix', host: host.name, detail: `${used} auto-fixes in the last hour` });
          return;
        }
        const verdict = await deps.ops.diagnose(host);
        const head = verdict.findings[0];
        if (!head || !AUTO_FIXABLE_CAUSES.has(head.cause)) {
          note(`auto-fix skipped: diagnose says ${head?.cause ?? 'nothing'} (no safe automatic fix)`);
          return;
        }
        const plan = deps.ops.plan(host, verdict);
        if (plan.steps.length === 0) {
          note('auto-fix skipped: nothing on the host can fix it');
          return;
        }
        await redis.multi().zadd(key, now, `${inc.id}:${inc.fireCount}`).pexpire(key, TTL.fixWindowMs).exec();
        await deps.enqueueFix!(host.name, plan, verdict);
        await deps.audit.record({ event: 'allowed', action: 'autofix', host: host.name, detail: `cause ${plan.cause}; steps ${plan.steps.map((s) => s.kind).join(',')}` });
        note(`auto-fix queued at ${new Date(now).toISOString().slice(11, 16)} UTC: ${plan.steps.map((s) => s.kind).join(', ')}`);
      }
    : undefined;

  // Every host monitor ticks each second and needs every host's probe (to tell "my own network is down"
  // from "that host is down") and the ack/mute counter: each is read once per half tick for the whole
  // process, not once per host.
  const halfTick = (t.tickMs ?? MONITOR_DEFAULTS.tickMs) / 2;
  const probes = new SharedRead(() => readProbes(redis, keys, allHosts), halfTick);
  const readAllProbes = () => probes.get();
  const controlSeq = new SharedRead(() => redis.get(keys.controlSeq()), halfTick);
  const readControlSeq = () => controlSeq.get();

  const adopt = async (host: HostConfig): Promise<void> => {
    const hm = new HostMonitor({
      host,
      allHosts,
      readAllProbes,
      readControlSeq,
      policy,
      processId,
      redis,
      keys,
      runner: deps.runner,
      store,
      mutes,
      sender,
      logger,
      probeIntervalMs,
      tickMs: t.tickMs ?? MONITOR_DEFAULTS.tickMs,
      follower: { backlogLines: t.backlogLines, rollCheckSec: t.rollCheckSec, backoffMinMs: t.backoffMinMs, backoffMaxMs: t.backoffMaxMs },
      autoFix,
      onLeaseLost: (name) => void drop(name, false),
      onRedisBlind: setBlind,
    });
    owned.set(host.name, hm);
    try {
      await hm.start();
      logger.info({ host: host.name, processId }, 'following host');
    } catch (err) {
      owned.delete(host.name);
      await hm.stop(false);
      await leases.release(host.name).catch(() => undefined);
      throw err;
    }
  };

  const drop = async (name: string, flush: boolean): Promise<void> => {
    const hm = owned.get(name);
    if (!hm) return;
    owned.delete(name);
    await hm.stop(flush);
    logger.info({ host: name, processId }, 'no longer following host');
  };

  /** Hosts started at once when adopting (SSH connects and Redis reads overlap). */
  const ADOPT_BATCH = 25;
  let round: Promise<void> | undefined;
  const orphanRounds = new Map<string, number>();
  const leaseRound = async (): Promise<void> => {
    if (closed) return;
    try {
      const live = await leases.heartbeat();
      const share = fairShare(deps.hosts.length, live.length);
      const mine = [...owned.keys()];
      const renewed = await leases.renewAll(mine);
      for (const [i, name] of mine.entries()) {
        if (renewed[i]) continue;
        // Expired while Redis was away and nobody took it: take it back without losing memory.
        if (await leases.tryAcquire(name)) continue;
        await drop(name, false);
      }
      if (owned.size < share) {
        const candidates = deps.hosts.filter((h) => !owned.has(h.name)).sort(() => Math.random() - 0.5);
        // Adopt in parallel batches, renewing what we hold between batches: starting hundreds of hosts
        // one by one takes longer than a lease lives.
        for (let i = 0; i < candidates.length && owned.size < share && !closed; i += ADOPT_BATCH) {
          const batch = candidates.slice(i, i + Math.min(ADOPT_BATCH, share - owned.size));
          await Promise.all(batch.map(async (h) => ((await leases.tryAcquire(h.name)) ? adopt(h) : undefined)));
          await leases.renewAll([...owned.keys()]);
        }
      } else {
        // Beyond our share, still take a host nobody has held for two rounds: never leave one unfollowed.
        const held = await leases.holders(allHosts);
        for (const [i, h] of deps.hosts.entries()) {
          if (owned.has(h.name) || closed) continue;
          if (held[i] !== null) {
            orphanRounds.delete(h.name);
            continue;
          }
          const n = (orphanRounds.get(h.name) ?? 0) + 1;
          orphanRounds.set(h.name, n);
          if (n >= 2 && (await leases.tryAcquire(h.name))) {
            orphanRounds.delete(h.name);
            await adopt(h);
          }
        }
      }
      if (owned.size > share) {
        // Another process joined: hand one host over per round (flush first, then release), but only
        // when a live process has room for it, so an adopted orphan is not bounced back and forth.
        const held = await leases.holders(allHosts);
        const count = (p: string) => held.filter((x) => x === p).length;
        if (live.some((p) => p !== processId && count(p) < share)) {
          const name = [...owned.keys()].pop()!;
          await drop(name, true);
          await leases.release(name);
        }
      }
      setBlind(false);
    } catch (err) {
      logger.debug({ err: redact(err instanceof Error ? err.message : String(err)) }, 'lease round failed');
      setBlind(true);
    }
  };
  const runRound = () => {
    round ??= leaseRound().finally(() => {
      round = undefined;
    });
    return round;
  };
  await runRound();
  const leaseTimer = setInterval(() => void runRound(), Math.max(200, Math.floor(leaseMs / 3)));
  leaseTimer.unref?.();

  const checkHost = (host: string): Reply | undefined =>
    hostByName.has(host) ? undefined : { title: `Unknown host "${host.slice(0, 40)}".`, tone: 'error' };

  const alerts: AlertCommands = {
    async mute(host, seconds, reason, by) {
      const bad = checkHost(host);
      if (bad) return bad;
      const m = await mutes.mute(host, seconds, reason, actorName(by));
      controlSeq.invalidate();
      return {
        title: `${host}: alerts muted for ${humanDuration(seconds)} (until ${whenShort(m.until)}) by ${m.by}.`,
        tone: 'info',
        body: [
          reason ? `Reason: ${reason}` : 'No reason given.',
          'Alerts are held, not lost: what still fires when the mute ends is sent then. Recovery notices of alerts already sent still come.',
        ],
      };
    },
    async unmute(host, by) {
      const bad = checkHost(host);
      if (bad) return bad;
      const was = await mutes.unmute(host);
      controlSeq.invalidate();
      owned.get(host)?.tick().catch(() => undefined);
      return was
        ? { title: `${host}: alerts resumed by ${actorName(by)} (muted by ${was.by}${was.reason ? `: ${was.reason}` : ''}).`, tone: 'info' }
        : { title: `${host}: alerts were not muted.`, tone: 'info' };
    },
    async ack(host, by) {
      const bad = checkHost(host);
      if (bad) return bad;
      const open = (await store.loadOpen(host)).filter((i) => i.phase === 'firing');
      const pending = open.filter((i) => !i.ackedBy);
      if (open.length === 0) return { title: `${host}: nothing is firing, nothing to ack.`, tone: 'info' };
      if (pending.length === 0) {
        return { title: `${host}: already acked by ${open.map((i) => i.ackedBy).join(', ')}.`, tone: 'info' };
      }
      const req: AckRequest = { by: actorName(by), at: Date.now() };
      // The host's owner (this process or another) applies it on its next tick.
      await bumpControlSeq(redis.multi().set(keys.ackRequest(host), JSON.stringify(req), 'EX', TTL.ackRequestSec), keys).exec();
      controlSeq.invalidate();
      owned.get(host)?.tick().catch(() => undefined);
      return {
        title: `${host}: acked by ${req.by}: ${pending.map((i) => CAUSE_LABELS[i.cause] ?? i.cause).join('; ')}.`,
        tone: 'info',
        body: ['Reminders stop. The recovery notice still comes when it resolves.'],
      };
    },
  };

  return {
    alerts,
    processId,
    async onFixRunning(host, running) {
      await mutes.setFixRunning(host, running);
      controlSeq.invalidate();
      owned.get(host)?.tick().catch(() => undefined);
    },
    ownedHosts: () => [...owned.keys()],
    incidents: () => [...owned.values()].flatMap((hm) => hm.snapshot()),
    blind: () => blindSince !== undefined,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(leaseTimer);
      await round;
      for (const name of [...owned.keys()]) {
        await drop(name, true).catch(() => undefined);
        await leases.release(name).catch(() => undefined);
      }
      await leases.leave().catch(() => undefined);
      await probeWorker?.close();
      await probeQueue.close();
      probeConnection.close();
    },
  };
}
