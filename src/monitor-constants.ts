/**
 * Constants of the monitor and alerts: timings and limits (key names and TTLs: src/state/key-space.ts).
 * Beside src/constants.ts, at the bottom of the layers, because the monitor, alerts and the Redis stores
 * below them all read them (in src/monitor/ they made alerts and state import the monitor above them).
 */

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
