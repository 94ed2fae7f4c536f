/**
 * Constants in one place: queue names, defaults and limits. Nothing else in src/ repeats these literals.
 * Redis key names and their TTLs are in src/state/key-space.ts.
 */

/** BullMQ queue names (prefixed by the config's redis.keyPrefix through BullMQ's own `prefix`). */
export const QUEUES = {
  diagnose: 'diagnose',
  fix: 'fix',
  notify: 'notify',
  probe: 'probe',
} as const;

/**
 * Chat platforms whose deliveries go through a notify queue of their own ("notify-telegram", ...):
 * only a process that runs that platform's adapter consumes it, so no delivery is taken by a
 * process that cannot send it. (Console deliveries go by pub/sub to their terminal.)
 */
export const NOTIFY_PLATFORMS = ['telegram', 'discord'] as const;
export type NotifyPlatform = (typeof NOTIFY_PLATFORMS)[number];
/** Name of the notify queue of one platform (BullMQ queue names may not contain ':'). */
export const notifyQueueName = (platform: NotifyPlatform): string => `${QUEUES.notify}-${platform}`;

/**
 * How a delivery is retried: capped exponential backoff (1 s doubling, at most 5 min apart), for
 * as long as it has not expired; a delivery nobody could make in `ttlSec` is given up and audited.
 */
export const DELIVERY = {
  ttlSec: 24 * 3600,
  backoffFirstMs: 1_000,
  backoffMaxMs: 5 * 60_000,
  /** Enough attempts that the TTL, not the count, ends the retries (~1000 × 5 min ≫ 24 h). */
  attempts: 1_000,
  backoffType: 'capped',
  /**
   * A delivery carrying a secret (a fresh tokenized dashboard link) is queued only sealed
   * (util/secret-box.ts) and only this long: one that cannot be made in time is replaced by a
   * notice telling the requester to ask for a new link, instead of keeping the secret for a day.
   */
  secretTtlSec: 10 * 60,
} as const;

/** Defaults for clawmedic.yaml; documented in clawmedic.example.yaml. */
export const DEFAULTS = {
  keyPrefix: 'clawmedic',
  gatewayPort: 18789,
  systemdUnit: 'openclaw-gateway.service',
  /** Deadline of one remote command. doctor takes 25-80 s on 2026.9.6, so fix steps get their own longer deadlines. */
  commandTimeoutSec: 60,
  connectTimeoutSec: 10,
  maxOutputBytes: 1_000_000,
  /** How long a /fix confirmation button stays valid. */
  confirmTtlSec: 300,
  /**
   * A confirmation's tokens outlive its expiry notice by this much, so the notice (a delayed delivery)
   * still finds them unused and retires them; if the notice cannot run, they end by TTL anyway.
   */
  confirmExpiryGraceSec: 120,
  /** Buttons under results (Diagnose/Fix) live this long. */
  buttonTtlSec: 24 * 3600,
  workerConcurrency: 4,
  fixMaxAttemptsPerHour: 3,
  /**
   * A restarted 2026.9 gateway answers its probe after ~10-15 s on a quiet host, but real starts on a busy
   * 2-core host took over 90 s (measured in the real-gateway suite). The wait ends as soon as the probe
   * answers, so room only costs time when the gateway never comes up.
   */
  startWaitSec: 180,
  probeIntervalSec: 60,
  fireAfterEvents: 3,
  fireWindowSec: 120,
  probeFailuresToFire: 2,
  resolveAfterSec: 120,
  reminderIntervalSec: 3600,
  httpPort: 9464,
  /** A chat adapter that cannot receive this long is reported to the admins on the other platforms (a 409 from a short-lived second poller stays quiet). */
  receiveDownGraceSec: 60,
  /** How often adapters' receive state is checked for that. */
  receiveCheckSec: 5,
  /** Max audit entries kept per stream (approximate trimming). */
  auditMaxLen: 100_000,
} as const;

/**
 * Finding fixes interrupted by a dead process (issue 13.2). A process refreshes its heartbeat every
 * `heartbeatMs`; it counts as gone when the key has lived `heartbeatTtlMs` without a refresh, or at
 * once when it ran on this machine and its pid is gone. Every worker process looks every `scanMs`.
 */
export const FIX_RECOVERY = {
  heartbeatMs: 2_000,
  heartbeatTtlMs: 8_000,
  scanMs: 3_000,
  /** One process recovers a given fix; another takes over if it dies doing so. */
  claimMs: 120_000,
  /** How long "Bring it back" stays pressable. */
  bringBackTtlSec: 3600,
} as const;

/**
 * A graceful shutdown (SIGTERM) always ends (src/app/shutdown.ts): running jobs finish, then what still waits on
 * Redis gets `idleGraceMs` and each connection's QUIT `quitMs` before it is disconnected. Well inside docker's 10 s
 * and systemd's 90 s stop timeouts once no job runs.
 */
export const SHUTDOWN = {
  idleGraceMs: 5_000,
  quitMs: 2_000,
} as const;

/**
 * Limits on the router's doors (issue 12.6). A person typing fast sends a few commands a minute;
 * 20 per minute each and 40 per chat leave room for a busy incident and stop a script or a
 * runaway client. Unknown users hear "not allowed" once per 10 minutes.
 */
export const REQUEST_LIMITS = {
  perPerson: 20,
  perChat: 40,
  windowSec: 60,
  unknownReplySec: 600,
  /** /status jobs one chat may have waiting: more than a fleet check or two in flight is a burst. */
  statusQueuedPerChat: 3,
} as const;

/** Job retry policy for transient failures (connection refused/reset, timeouts) of read-only jobs. */
export const RETRY = {
  attempts: 3,
  backoffMs: 2_000,
} as const;

/**
 * The actor id of fixes the monitor starts (auto-fix): no person, so buttons that follow such a fix
 * (restore, Bring it back) are bound to nobody and any operator of the chat may press them.
 */
export const AUTOFIX_USER_ID = 'clawmedic-autofix';

/** Hosts are named in chat: a strict pattern so a name can never carry shell syntax. */
export const HOST_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Opaque button tokens: 16 random bytes base64url = 22 chars (Telegram callback_data ≤ 64 bytes, Discord custom_id ≤ 100). */
export const BUTTON_TOKEN_BYTES = 16;

/**
 * Node/V8 flags every clawmedic process is started with (package.json scripts, bin/clawmedic.js's
 * shebang, the Dockerfile; a unit test keeps them in step, the benchmarks run with them).
 * --optimize-for-size keeps V8's young generation at 1 MiB instead of letting it grow to 32 MiB, and
 * its old generation closer to what is live: the monitor following 500 hosts measured 134 MiB RSS
 * with it against 168-180 MiB without (bench/README.md), for about 3-4 % of a core more CPU there
 * (more frequent young-generation collections). It favours memory
 * over speed, which is right for a daemon that often shares a 2 GB server with the gateway it watches.
 * Not allowed in NODE_OPTIONS, hence on the command lines.
 */
export const NODE_RUNTIME_FLAGS = ['--optimize-for-size'] as const;

/**
 * The incident picture's rasterizer runs in a child process (alerts/picture-renderer.ts), so resvg's native
 * module, its pixmaps and the allocator arenas of its threads never stay in the bot's memory: rendered in
 * the bot's own process they kept about 30 MiB resident (bench/README.md, "Incident picture").
 */
export const PICTURE_RENDERER = {
  /**
   * The child exits after this long without a render or a warm(). The monitor warms it on every tick while
   * one of its hosts has an open incident, so it runs from the incident's first signal until a minute after
   * the last one closed; one alert's pictures (Telegram, Discord, a diagnose right after) come within
   * seconds of each other; between incidents the memory is given back.
   */
  idleExitMs: 60_000,
  /**
   * The process that queues a picture (the monitor at an alert, a worker after a diagnose) makes it ahead,
   * with its warm renderer, and waits at most this long before queueing the reference anyway (the sender
   * then makes it, or finds it once made).
   */
  prepareWaitMs: 2_000,
  /**
   * A render not answered within this is abandoned and the child killed: the alert has gone out already and
   * its picture is dropped (logged). Generous: at load average 25 a cold start plus render took about 1 s.
   */
  timeoutMs: 10_000,
  /** V8 heap cap of the child (MiB): its JavaScript is a few lines, the pixmap and PNG are native memory. */
  maxOldSpaceMb: 32,
  /** Characters of the child's stderr kept for the error when it dies (a Rust panic message, say). */
  stderrTailChars: 1_000,
} as const;

/**
 * The OpenClaw version of a docker install is read in its container (one `docker exec`, and a `docker inspect`
 * when that fails: the docker 28 CLI alone peaks at ~23 MB RSS, and an exec also works dockerd and runc), once
 * per container: again when the gateway's pid on the port changes (a restart or a new container), and at the
 * latest after these times.
 */
export const DOCKER_VERSION_CACHE = {
  /** A version found: read again after an hour even if the pid looks the same (a pid reused). */
  foundTtlMs: 3_600_000,
  /** None found (container stopped, no sh in the image): tried again after ten minutes. */
  missTtlMs: 600_000,
} as const;

/**
 * How a fix is verified: a fresh diagnose every `pollSec` after the last step, until verification
 * holds or the plan's verify window (the ceiling) ends. It holds when the gateway answers, nothing of
 * the cause failed since the fix, and either a client got through since (the failing one is back) or
 * nothing failed for the quiet time: `quietClientSec` for client causes (longer than the Control UI's
 * 15 s reconnect backoff cap, so a tab still looping would have failed again), `quietSec` for others.
 */
export const VERIFY = {
  pollSec: 5,
  quietClientSec: 20,
  quietSec: 10,
} as const;

/** Defaults of the monitor's own timings (the alert policy itself is in clawmedic.yaml `alerts`). */
export const MONITOR_DEFAULTS = {
  /** A dead process's hosts are taken over within this long. */
  leaseMs: 15_000,
  /** How often each owned host is evaluated (resolve windows, reminders, mute expiry, probe results). */
  tickMs: 1_000,
  /** Lines replayed from the end of the log on (re)connect; resume position skips those already seen. */
  backlogLines: 300,
  /** Reconnect backoff of a follower (randomized, doubling). */
  backoffMinMs: 1_000,
  backoffMaxMs: 30_000,
  /** A stream that lasted this long resets the backoff. */
  backoffResetMs: 30_000,
  /** How often the file follower looks for a newer dated log file (the date rolls at midnight). */
  rollCheckSec: 30,
  /** Re-firing within this long after a resolve makes the incident "flapping" instead of a new one. */
  flapWindowSec: 1800,
  /** A flapping incident resolves only after this many times the normal quiet window. */
  flapResolveFactor: 3,
  /** At most one edit of an alert message per this many ms (Telegram/Discord edit rate limits). */
  editMinIntervalMs: 5_000,
  /** A change of only the count (within its bucket) or the last-event time is shown at most this often. */
  editRefreshMs: 5 * 60_000,
  /** Half of DEFAULTS.buttonTtlSec (24 h): an unchanged firing alert gets fresh buttons before its old ones expire. */
  buttonRefreshMs: 12 * 3600_000,
  /** Evidence lines kept per incident. */
  maxEvidence: 6,
  /** Distinct clients remembered per incident. */
  maxClients: 20,
  /** Event times remembered per incident for the firing window. */
  maxRecent: 200,
  /** Connection ids remembered per incident to drop a line replayed twice. */
  maxSeenConns: 100,
  /** How long a 4008 waits for its 1008 partner line is irrelevant (partner comes first); conns kept this long. */
  connMemoryMs: 120_000,
  /**
   * A host monitor rereads its ack and mute keys at least this often even when the change counter did
   * not move (a writer that predates the counter, a counter lost with Redis).
   */
  controlsRefreshMs: 30_000,
  /** Probe deadline. */
  probeTimeoutMs: 60_000,
  /** Default mute from the Mute button. */
  muteButtonDuration: '1h',
  /** Hours of per-minute series kept per host for the incident picture. */
  seriesHours: 6,
  /** Hours the incident picture shows, ending now. */
  pictureHours: 3,
} as const;

/** Causes with a fix that is safe to run without a person confirming it (auto-fix, off by default per host). */
export const AUTO_FIXABLE_CAUSES = new Set<string>(['gateway_down', 'crash_loop', 'out_of_memory', 'gateway_mode_unset']);
