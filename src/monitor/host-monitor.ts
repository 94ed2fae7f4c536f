/**
 * Everything the monitor does for one host while this process holds its lease: follow the log,
 * turn lines into signals, apply probe results, acks and mutes, advance the incident state machine,
 * deliver what it asks for, and persist incidents + resume position (fenced by the lease).
 */
import type { RedisClient } from '../state/redis.js';
import type { Cause } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
import type { RemoteRunner } from '../domain/remote.js';
import type { Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';
import { parseLogLine } from '../openclaw/log-parser.js';
import type { AlertSender, IncidentMessageKind } from '../alerts/alert-sender.js';
import type { PictureSource } from '../alerts/picture-source.js';
import type { HostMutes, MuteStore } from '../state/mute-store.js';
import { AUTO_FIXABLE_CAUSES, MONITOR_DEFAULTS } from '../constants.js';
import type { KeySpace } from '../state/key-space.js';
import { LogFollower } from './follower.js';
import { HostControls } from './host-controls.js';
import type { AutoFix } from './auto-fix.js';
import type { IncidentStore } from '../state/incident-store.js';
import {
  ackIncident,
  applyMute,
  applyProbeFailure,
  applySignal,
  evaluate,
  markDone,
  newIncident,
  noteTried,
  type Action,
  type ActionKind,
  type AlertPolicy,
} from './incident-machine.js';
import type { Incident } from '../domain/incident.js';
import { readProbes, type ProbeResult } from '../state/probe-results.js';
import { SignalExtractor } from './signals.js';
import { refusalSeries, SeriesBuffer } from '../state/host-series.js';
import { AckRequests } from '../state/ack-requests.js';
import { HostIncidentPictures } from './incident-pictures.js';

/** The message each delivering action of the incident machine sends. */
const MESSAGE_OF = { announce: 'alert', edit: 'alert', remind: 'reminder', recover: 'recovery', flap_notice: 'flap_notice' } as const satisfies Record<
  Exclude<ActionKind, 'autofix'>,
  IncidentMessageKind
>;

export interface HostMonitorDeps {
  host: HostConfig;
  allHosts: string[];
  policy: AlertPolicy;
  processId: string;
  redis: RedisClient;
  keys: KeySpace;
  runner: RemoteRunner;
  store: IncidentStore;
  mutes: MuteStore;
  sender: AlertSender;
  logger: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  probeIntervalMs: number;
  tickMs: number;
  follower?: { backlogLines?: number; rollCheckSec?: number; backoffMinMs?: number; backoffMaxMs?: number };
  /** Probe results of every host, shared by all host monitors of the process (one read per tick, not one per host). */
  readAllProbes?: () => Promise<Array<ProbeResult | undefined>>;
  /** The ack/mute change counter, shared by the process (undefined: read acks and mutes every tick). */
  readControlSeq?: () => Promise<string | null>;
  /** Auto-fix for a firing incident (undefined = auto-fix not wired). */
  autoFix?: AutoFix;
  /** Called when a fenced save finds the lease taken by another process. */
  onLeaseLost(host: string): void;
  /** Called with true when this host monitor cannot reach Redis, false when it can again. */
  onRedisBlind?(blind: boolean): void;
  /**
   * This process's incident pictures: warmed while an incident that will have a picture is open (from its
   * first signal, so the alert's picture does not wait for the renderer to start), and the alert's picture
   * made ahead here, before its reference is queued (undefined: the sender makes it).
   */
  pictures?: Pick<PictureSource, 'warm' | 'prepare'>;
}

export class HostMonitor {
  private readonly incidents = new Map<Cause, Incident>();
  private readonly dirty = new Set<Incident>();
  private readonly finished = new Set<Incident>();
  private readonly extractor = new SignalExtractor();
  /** Per-minute counts for the incident picture, written with the next save. */
  private readonly series = new SeriesBuffer();
  private follower?: LogFollower;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private again = false;
  private stopped = false;
  private lastProbeSeq = 0;
  private lastProbeOkAt?: number;
  private lastReachableAt?: number;
  private fixRunning = false;
  private blind = false;
  private networkBlind = false;
  private resumeDirty = false;
  private readonly controls: HostControls;
  private readonly pictures: HostIncidentPictures;

  constructor(private readonly deps: HostMonitorDeps) {
    this.controls = new HostControls(deps.host.name, new AckRequests(deps.redis, deps.keys), deps.mutes, deps.readControlSeq);
    this.pictures = new HostIncidentPictures(deps.host.name, deps.sender, deps.logger, deps.pictures);
  }

  get name(): string {
    return this.deps.host.name;
  }

  /** Open incidents (copies) for status and tests. */
  snapshot(): Incident[] {
    return [...this.incidents.values()].map((i) => structuredClone(i));
  }

  /** Load state from Redis, start following, start ticking. */
  async start(): Promise<void> {
    const { store, host } = this.deps;
    for (const inc of await store.loadOpen(host.name)) {
      const existing = this.incidents.get(inc.family);
      // One open incident per family; keep the newest if an old crash left two.
      if (!existing || existing.openedAt < inc.openedAt) this.incidents.set(inc.family, inc);
    }
    const resume = await store.loadResume(host.name);
    const logFile = (await this.deps.redis.get(this.logFileKey())) ?? undefined;
    const [probe] = await readProbes(this.deps.redis, this.deps.keys, [host.name]);
    if (probe) {
      // Results from before we took the host are history: note the times, count nothing twice.
      this.lastProbeSeq = probe.seq;
      if (probe.reachable) this.lastReachableAt = probe.at;
      if (probe.probeOk) this.lastProbeOkAt = probe.at;
    }
    this.follower = new LogFollower({
      host,
      runner: this.deps.runner,
      logger: this.deps.logger,
      resume,
      logFile,
      onLogFile: (p) => void this.deps.redis.set(this.logFileKey(), p).catch(() => undefined),
      onLine: (line, at) => this.onLine(line, at),
      onState: (s, err) => this.deps.logger.debug({ host: host.name, state: s, err }, 'log follower'),
      ...this.deps.follower,
    });
    this.follower.start();
    this.timer = setInterval(() => void this.tick(), this.deps.tickMs);
    this.timer.unref?.();
  }

  /** Stop following and ticking; flush what is dirty unless the lease was lost. */
  async stop(flush = true): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.follower?.stop();
    await this.ticking;
    if (flush) await this.save().catch(() => undefined);
  }

  /** Streams opened by the follower (tests). */
  get followerConnects(): number {
    return this.follower?.connects ?? 0;
  }

  private logFileKey(): string {
    return this.deps.keys.logFile(this.deps.host.name);
  }

  /** One new log line: parse, correlate, count. Synchronous; delivery happens in the next tick. */
  onLine(line: string, receivedAt: number): void {
    this.resumeDirty = true;
    const ev = parseLogLine(line);
    if (!ev) return;
    const now = receivedAt;
    // A gateway process starting is a restart marker in the picture.
    if (ev.kind === 'starting') this.series.add('rst', Number.isFinite(ev.ms) && ev.ms <= now + 60_000 ? ev.ms : now, 1, now);
    let fired = false;
    for (const sig of this.extractor.ingest(ev, receivedAt)) {
      const chart = refusalSeries(sig.family);
      // Lines replayed from long ago count for nothing: only the firing window matters (the picture still shows them).
      if (sig.at < now - this.deps.policy.fireWindowMs && !this.incidents.has(sig.family)) {
        if (chart) this.series.add(chart, sig.at, 1, now);
        continue;
      }
      const inc = this.incidentFor(sig.family, 'log', now);
      const before = inc.phase;
      if (applySignal(inc, sig, this.deps.policy, now)) {
        if (chart) this.series.add(chart, sig.at, 1, now);
        this.dirty.add(inc);
        if (before !== 'firing' && inc.phase === 'firing') fired = true;
      }
    }
    // Alert within seconds: do not wait for the next tick.
    if (fired) setImmediate(() => void this.tick());
  }

  private incidentFor(family: Cause, source: Incident['source'], now: number): Incident {
    let inc = this.incidents.get(family);
    if (!inc) {
      inc = newIncident(this.deps.host.name, family, source, now);
      this.incidents.set(family, inc);
      // Its first signal: should it fire, its picture follows within seconds of the alert.
      this.warmPictures();
    }
    return inc;
  }

  /** Advance time once; serialized (a tick asked for while one runs runs right after it). */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.ticking) {
      this.again = true;
      return this.ticking;
    }
    this.ticking = (async () => {
      do {
        this.again = false;
        try {
          await this.tickOnce();
          if (this.blind) {
            this.blind = false;
            this.deps.logger.info({ host: this.name }, 'monitor can see again (Redis reachable)');
            this.deps.onRedisBlind?.(false);
          }
        } catch (err) {
          if (!this.blind) {
            this.blind = true;
            // Without Redis nothing can be delivered or stored: say "blind", never "host down".
            this.deps.logger.warn({ host: this.name, err: redact(err instanceof Error ? err.message : String(err)) }, 'monitor is blind (cannot reach Redis); holding alerts');
            this.deps.onRedisBlind?.(true);
          }
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async tickOnce(): Promise<void> {
    const { redis, keys, host, policy } = this.deps;
    const now = Date.now();

    // Probe results (stored by whichever process ran the probe).
    const probes = await (this.deps.readAllProbes?.() ?? readProbes(redis, keys, this.deps.allHosts));
    const mine = probes[this.deps.allHosts.indexOf(host.name)];
    this.networkBlind = this.isNetworkBlind(probes, now);
    if (mine && mine.seq > this.lastProbeSeq) {
      this.lastProbeSeq = mine.seq;
      this.applyProbe(mine, now);
    }

    const mutes = await this.readControls(now);
    const fixNow = mutes.fix !== undefined;
    if (fixNow !== this.fixRunning) {
      this.fixRunning = fixNow;
      if (fixNow) this.series.add('fix', now, 1, now);
      const hhmm = new Date(now).toISOString().slice(11, 16);
      for (const inc of this.incidents.values()) {
        if (inc.phase === 'firing') {
          noteTried(inc, fixNow ? `a clawmedic fix started at ${hhmm} UTC` : `the fix finished at ${hhmm} UTC`);
          this.dirty.add(inc);
        }
      }
    }
    for (const inc of this.incidents.values()) {
      if (applyMute(inc, mutes.person)) this.dirty.add(inc);
    }
    const muted = mutes.person !== undefined || fixNow;
    const unreachable = this.incidents.get('host_unreachable');
    const hostDown = unreachable?.phase === 'firing';

    // A copy: lines read while an action awaits may add incidents, which wait for the next tick.
    for (const inc of [...this.incidents.values()]) {
      const isUnreachable = inc.family === 'host_unreachable';
      const phaseBefore = inc.phase;
      const versionBefore = inc.version;
      const ev = evaluate(
        inc,
        {
          now,
          muted,
          inhibited: this.networkBlind || (!isUnreachable && hostDown),
          lastProbeOkAt: this.lastProbeOkAt,
          lastReachableAt: this.lastReachableAt,
          autoFix: host.autoFix && this.deps.autoFix !== undefined && AUTO_FIXABLE_CAUSES.has(inc.cause),
        },
        policy,
      );
      if (inc.phase !== phaseBefore || inc.version !== versionBefore) this.dirty.add(inc);
      for (const action of ev.actions) await this.run(inc, action, now);
      if (ev.done) {
        this.incidents.delete(inc.family);
        this.finished.add(inc);
      }
    }
    await this.save();
    if (!this.stopped) await this.pictures.send(now);
    // Kept warm while an incident is open (the renderer's idle time counts from the last call).
    this.warmPictures();
  }

  /** Start or keep this process's picture renderer while an incident that would have a picture is open. */
  private warmPictures(): void {
    if (!this.stopped) this.pictures.warm(this.incidents.values());
  }

  /** Apply an ack asked for in chat (by any process) and return the mutes in force. */
  private async readControls(now: number): Promise<HostMutes> {
    const { mutes, ack } = await this.controls.read(now);
    if (ack) {
      for (const inc of this.incidents.values()) {
        if (inc.phase === 'firing' && (inc.firedAt ?? 0) <= ack.at && ackIncident(inc, ack.by, now)) this.dirty.add(inc);
      }
    }
    return mutes;
  }

  private isNetworkBlind(probes: Array<ProbeResult | undefined>, now: number): boolean {
    if (probes.length < 2) return false;
    const fresh = 3 * this.deps.probeIntervalMs + MONITOR_DEFAULTS.probeTimeoutMs;
    return probes.every((p) => p !== undefined && !p.reachable && now - p.at <= fresh);
  }

  private applyProbe(p: ProbeResult, now: number): void {
    // "Probe ok" means the latest probe: a failure since the last ok one cancels it (no resolving while down).
    this.lastReachableAt = p.reachable ? p.at : undefined;
    this.lastProbeOkAt = p.probeOk ? p.at : undefined;
    if (!p.family) return;
    if (p.family === 'host_unreachable' && this.networkBlind) return; // our network, not the host
    const inc = this.incidentFor(p.family, 'probe', now);
    applyProbeFailure(
      inc,
      {
        at: p.at,
        consecutive: p.family === 'host_unreachable' ? p.consecutiveUnreachable : p.consecutiveFailures,
        evidence: `${new Date(p.at).toISOString().slice(11, 19)} probe: ${p.detail}`,
      },
      this.deps.policy,
      now,
    );
    this.dirty.add(inc);
  }

  private async run(inc: Incident, action: Action, now: number): Promise<void> {
    if (action.kind === 'autofix') {
      // Marked first: a slow diagnose must not start a second auto-fix on the next tick.
      markDone(inc, action, now);
      const note = (what: string) => {
        noteTried(inc, what);
        this.dirty.add(inc);
      };
      void this.deps.autoFix?.(inc, note).catch((err: unknown) =>
        note(`auto-fix failed: ${redact(err instanceof Error ? err.message : String(err)).slice(0, 160)}`),
      );
      return;
    }
    await this.deps.sender.send(MESSAGE_OF[action.kind], inc, now);
    if (action.kind === 'announce') this.pictures.announced(inc);
    markDone(inc, action, now);
    this.dirty.add(inc);
  }

  private async save(): Promise<void> {
    if (this.dirty.size === 0 && this.finished.size === 0 && !this.resumeDirty && this.series.empty) return;
    // Take the sets first: lines that arrive while the script runs mark things dirty for the next save.
    const dirty = [...this.dirty];
    const finished = [...this.finished];
    const resumeDirty = this.resumeDirty;
    const series = this.series.take();
    this.dirty.clear();
    this.finished.clear();
    this.resumeDirty = false;
    const changes = [
      ...dirty.filter((i) => !finished.includes(i)).map((incident) => ({ incident, done: false })),
      ...finished.map((incident) => ({ incident, done: true })),
    ];
    let ok: boolean;
    try {
      ok = await this.deps.store.save(this.deps.host.name, this.deps.processId, changes, resumeDirty ? this.follower?.position : undefined, series);
    } catch (err) {
      this.series.restore(series);
      for (const i of dirty) this.dirty.add(i);
      for (const i of finished) this.finished.add(i);
      this.resumeDirty ||= resumeDirty;
      throw err;
    }
    if (!ok) {
      this.deps.logger.warn({ host: this.name }, 'lease lost: another process follows this host now');
      this.stopped = true;
      this.deps.onLeaseLost(this.name);
    }
  }
}
