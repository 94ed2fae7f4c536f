/**
 * Every Redis key clawmedic writes is named here, and nowhere else (test/unit/key-ownership.test.ts
 * fails on a key built outside src/state). Names are those of earlier releases, byte for byte: data in
 * a running Redis is still found after an upgrade. The TTLs of those keys are here too, one named
 * constant each; a Lua script gets its TTL as an argument instead of a number of its own.
 */

/** A week: how long records that only matter while a job or its messages may still be acted on are kept. */
const WEEK_SEC = 7 * 86_400;
const DAY_SEC = 86_400;
const HOUR_SEC = 3_600;

/**
 * Lifetimes of clawmedic's keys. Lifetimes that are a setting (button and confirmation TTLs, the monitor's
 * lease period, the heartbeat) come from the config or their module's constants and are passed in.
 */
export const TTL = {
  /** Delivery counters of a message (`seq`, `shownseq`): outlive any edit of it we would still make. */
  messageSeqSec: WEEK_SEC,
  /** Adapter message references: outlive any job or incident message we would still edit. */
  messageRefSec: WEEK_SEC,
  /** "This fix job started" / "its outcome was sent": a copy handed out again later stays quiet. */
  fixMarkerSec: WEEK_SEC,
  /** A running fix's record: long enough for any fix; one nobody recovered ends by itself. */
  fixRunSec: WEEK_SEC,
  /** "This fix was closed by a recovery": asked by a stall check soon after. */
  fixRecoveredSec: DAY_SEC,
  /** A resolved incident stays readable (history, the picture of its alert) this long. */
  resolvedIncidentSec: WEEK_SEC,
  /** Longest an in-flight marker (and its subscribers) can outlive a crashed worker. */
  inflightSec: 30 * 60,
  /** Fixes counted per host (manual and automatic): a sliding hour. */
  fixWindowMs: HOUR_SEC * 1000,
  /** "This job was told it waits for the host": once per job. */
  hostWaitSec: HOUR_SEC,
  /** A pending ack waits this long for its host's owner to apply it. */
  ackRequestSec: DAY_SEC,
  /** The "clawmedic was blind" notice goes out once per gap across processes. */
  blindNoticeSec: 300,
  /** Refusals not answered, counted until the next answered one: long enough to reach it, short enough to clean up. */
  silencedRefusalsSec: DAY_SEC,
  /** Mute set while a clawmedic fix runs on the host, in case the "fix finished" call never comes. */
  fixMuteSec: 900,
  /** A rendered incident picture is reused for this long (every chat of one alert, a diagnose right after it). */
  pictureSec: 120,
} as const;

/** Kinds of request-limit counters (rate-limiter-flexible adds its own keys below each prefix). */
export type LimitKind = 'person' | 'chat' | 'told-unknown' | 'told-limited';

/**
 * The names of clawmedic's keys under one prefix: `clawmedic:…`, or on a Redis Cluster the hash tag
 * `{clawmedic}:…`, so that every key (BullMQ's queues, clawmedic's MULTIs and Lua scripts that span keys)
 * hashes to one slot. BullMQ names its own queue keys; it gets {@link KeySpace.prefix} as its `prefix`.
 */
export class KeySpace {
  /**
   * The prefix of every key: the config's `redis.keyPrefix`, as a hash tag on a Cluster. One slot means one
   * shard holds clawmedic's data; that is deliberate: clawmedic writes a few keys a second, far below one
   * node's capacity, and splitting it would cost the atomicity its scripts rely on.
   */
  static forConfig(redis: { keyPrefix: string; cluster?: unknown }): KeySpace {
    return new KeySpace(redis.cluster ? `{${redis.keyPrefix}}` : redis.keyPrefix);
  }

  /** @param prefix the whole prefix, hash tag included when there is one (BullMQ's `prefix` too). */
  constructor(readonly prefix: string) {
    if (!prefix || /\s/.test(prefix)) throw new RangeError(`Redis key prefix must be non-empty without spaces, got "${prefix}"`);
  }

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  /** A key in clawmedic's slot that is never written: to find the slot, or as a cheap read that answers. */
  get slotKey(): string {
    return this.prefix;
  }

  /** Glob pattern of every key under the prefix (a hash tag's braces escaped), for SCAN. */
  get pattern(): string {
    return `${this.prefix.replace(/[[\]{}*?\\]/g, '\\$&')}:*`;
  }

  // --- router and jobs ---

  /** A button token's state (signed JSON, TTL of the button). */
  button(token: string): string {
    return this.key('btn', token);
  }

  /** The job running for a host and kind (JSON, {@link TTL.inflightSec}). */
  inflight(kind: string, host: string): string {
    return this.key('inflight', kind, host);
  }

  /** Requesters who joined a running job (list, {@link TTL.inflightSec}). */
  inflightSubscribers(jobId: string): string {
    return this.key('subs', jobId);
  }

  /** Fixes started on a host in the last hour (sorted set, {@link TTL.fixWindowMs}). */
  fixAttempts(host: string): string {
    return this.key('fixattempts', host);
  }

  /** Auto-fixes of a host in the last hour (sorted set, {@link TTL.fixWindowMs}). */
  autoFixes(host: string): string {
    return this.key('monitor', 'autofix', host);
  }

  /** A host's single-flight lock (JSON with a token, PX). */
  hostLock(host: string): string {
    return this.key('lock', 'host', host);
  }

  /** A job that was told once that it waits for its host ({@link TTL.hostWaitSec}). */
  hostWait(jobId: string): string {
    return this.key('hostwait', jobId);
  }

  /** A fix job started (its steps must not run twice; {@link TTL.fixMarkerSec}). */
  fixStarted(jobId: string): string {
    return this.key('fixstarted', jobId);
  }

  /** A fix job's outcome was sent ({@link TTL.fixMarkerSec}). */
  fixDone(jobId: string): string {
    return this.key('fixdone', jobId);
  }

  /** A running fix's progress (signed JSON, {@link TTL.fixRunSec}). */
  fixRun(jobId: string): string {
    return this.key('fixrun', jobId);
  }

  /** Job ids of every recorded fix run (set). */
  fixRunIndex(): string {
    return this.key('fixrun', 'index');
  }

  /** One process's claim on recovering a fix (PX). */
  fixRunRecovering(jobId: string): string {
    return `${this.fixRun(jobId)}:recovering`;
  }

  /** A fix closed by a recovery ({@link TTL.fixRecoveredSec}). */
  fixRunRecovered(jobId: string): string {
    return `${this.fixRun(jobId)}:recovered`;
  }

  /** Heartbeat of a running clawmedic process (JSON, PX). */
  heartbeat(processId: string): string {
    return this.key('hb', processId);
  }

  /** /status jobs waiting per chat (sorted set of job ids). */
  statusSlots(platform: string, chatId: string): string {
    return this.key('status-slots', platform, chatId);
  }

  /** Where rate-limiter-flexible keeps one kind of request-limit counter (it appends `:<id>`). */
  limitPrefix(kind: LimitKind): string {
    return this.key('limit', kind);
  }

  /** Refusals of one kind not answered to one person ({@link TTL.silencedRefusalsSec}). */
  silencedRefusals(kind: string, personId: string): string {
    return this.key('limit', `silenced-${kind}`, personId);
  }

  /** The audit trail (stream): the global one, or a host's. */
  audit(host?: string): string {
    return host ? this.key('audit', 'host', host) : this.key('audit');
  }

  // --- deliveries ---

  /** Latest delivery number of a message ({@link TTL.messageSeqSec}). */
  messageSeq(messageKey: string): string {
    return this.key('seq', messageKey);
  }

  /** Newest delivery number shown of a message ({@link TTL.messageSeqSec}). */
  shownSeq(messageKey: string): string {
    return this.key('shownseq', messageKey);
  }

  /** The platform message a messageKey was sent as ({@link TTL.messageRefSec}). */
  messageRef(platform: string, messageKey: string): string {
    return this.key('msgref', platform, messageKey);
  }

  /** The sealed secret of a message reference (a Discord interaction token; PX of its own). */
  messageRefSecret(platform: string, messageKey: string): string {
    return this.key('msgsecret', platform, messageKey);
  }

  /** Pub/sub channel of one console session (not a key; named under the prefix all the same). */
  consoleChannel(chatId: string): string {
    return this.key('console', chatId);
  }

  // --- monitor and alerts ---

  /** One incident (hash, field `data` holds the JSON; {@link TTL.resolvedIncidentSec} once done). */
  incident(id: string): string {
    return this.key('incident', id);
  }

  /** Ids of a host's incidents still open (set). */
  openIncidents(host: string): string {
    return this.key('incidents', 'open', host);
  }

  /** Follower lease of a host (process id, PX lease). */
  lease(host: string): string {
    return this.key('monitor', 'lease', host);
  }

  /** Live monitor processes (sorted set: process id → last heartbeat ms). */
  monitorProcesses(): string {
    return this.key('monitor', 'procs');
  }

  /** Where a host's follower resumes (JSON). */
  resume(host: string): string {
    return this.key('monitor', 'resume', host);
  }

  /** A host's log file path, cached so a reconnect does not run `gateway status` again. */
  logFile(host: string): string {
    return this.key('monitor', 'logfile', host);
  }

  /** A host's latest probe result (JSON with consecutive failure counts). */
  probe(host: string): string {
    return this.key('monitor', 'probe', host);
  }

  /** A host's per-minute series for the incident picture (hash). */
  series(host: string): string {
    return this.key('monitor', 'series', host);
  }

  /** A rendered incident picture ({@link TTL.pictureSec}). */
  picture(host: string, incidentId: string | undefined, hours: number, minute: number): string {
    return this.key('monitor', 'picture', host, incidentId ?? '-', String(hours), String(minute));
  }

  /** A pending ack of a host, consumed by its owner ({@link TTL.ackRequestSec}). */
  ackRequest(host: string): string {
    return this.key('monitor', 'ack', host);
  }

  /** Change counter of acks and mutes (see control-seq.ts). */
  controlSeq(): string {
    return this.key('monitor', 'controlseq');
  }

  /** Dedupe of the "clawmedic was blind" notice ({@link TTL.blindNoticeSec}). */
  blindNotice(): string {
    return this.key('monitor', 'blind');
  }

  /** A person's mute of a host (JSON, the mute's own PX). */
  mute(host: string): string {
    return this.key('mute', host);
  }

  /** The mute a running fix sets on its host ({@link TTL.fixMuteSec}). */
  fixMute(host: string): string {
    return `${this.mute(host)}:fix`;
  }
}
