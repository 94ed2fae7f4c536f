/**
 * Types of the evidence clawmedic gathers from an OpenClaw host in one SSH pass, and of the
 * typed events its log parser extracts. Pure data: produced by the parsers, read by diagnose().
 */

/** A close/auth event's client as the gateway logged it (`client=webchat-ui webchat v2026.9.6`). */
export interface LoggedClient {
  /** client.id: webchat-ui, openclaw-control-ui, cli, gateway-client, ... */
  id?: string;
  /** client mode: webchat, probe, backend, node, ... */
  mode?: string;
  version?: string;
}

interface EventBase {
  /** ISO time as logged (file log `time`, or the line's leading timestamp). */
  time?: string;
  /** `time` in epoch ms, NaN when unknown. */
  ms: number;
  /** The message text of the line (without JSON wrapping), capped; not redacted. */
  text: string;
}

/** `[ws] unauthorized conn=… client=… origin=… reason=token_mismatch guidance=…` (WARN). */
export interface UnauthorizedEvent extends EventBase {
  kind: 'unauthorized';
  conn: string;
  reason: string;
  client: LoggedClient;
  origin?: string;
  remote?: string;
  /** auth=token | device-token | none */
  auth?: string;
  /** device=yes|no */
  device?: boolean;
}

/** `[ws] closed before connect conn=… code=4008 reason=connect failed phase=… cause=…` (WARN). */
export interface ClosedBeforeConnectEvent extends EventBase {
  kind: 'closed_before_connect';
  conn: string;
  code: number;
  reason: string;
  cause?: string;
  phase?: string;
  /** Only in 2026.9 text lines and in the structured field "1" of the file log. */
  authReason?: string;
  origin?: string;
  remote?: string;
  client: LoggedClient;
  hasDeviceIdentity?: boolean;
}

/** `[ws] webchat connected conn=… remote=… client=…` (INFO). */
export interface WebchatConnectedEvent extends EventBase {
  kind: 'webchat_connected';
  conn: string;
  remote?: string;
  /** Not on real 2026.9.6 / 2026.4.29 lines; read should a release add it. */
  origin?: string;
  client: LoggedClient;
}

/** `[ws] webchat disconnected code=4008 reason=connect failed conn=…` (INFO). */
export interface WebchatDisconnectedEvent extends EventBase {
  kind: 'webchat_disconnected';
  conn: string;
  code: number;
  reason: string;
}

/** `[reload] config change detected; evaluating reload (gateway.auth.token)` / `config hot reload applied (…)`. */
export interface ReloadEvent extends EventBase {
  kind: 'reload';
  phase: 'detected' | 'applied' | 'other';
  keys: string[];
}

/** `Config auto-restored from backup: <path> (gateway-mode-missing-vs-last-good)` (WARN). */
export interface ConfigAutoRestoredEvent extends EventBase {
  kind: 'config_autorestored';
  path?: string;
  reason?: string;
}

/** `[plugins] <id> failed during load from <path>: Error: …` and `[gateway] [plugins] plugin failed during load: … (plugin=<id>, …)`. */
export interface PluginFailureEvent extends EventBase {
  kind: 'plugin_failure';
  plugin: string;
  error: string;
  source?: string;
}

/** `Gateway failed to start: another gateway instance is already listening … EADDRINUSE`. */
export interface PortConflictEvent extends EventBase {
  kind: 'port_conflict';
  port?: number;
}

/** `Gateway failed to start: Doctor could not enter maintenance. StateDatabaseCoordinatorContentionError …` / `requires state migration`. */
export interface SecondGatewayEvent extends EventBase {
  kind: 'second_gateway';
}

/** `[gateway] received SIGTERM; shutting down` (phase sigterm) or `[shutdown] completed cleanly` (phase completed). */
export interface ShutdownEvent extends EventBase {
  kind: 'shutdown';
  phase: 'sigterm' | 'completed';
}

/** `[gateway] loading configuration…`: a gateway process starting. */
export interface StartingEvent extends EventBase {
  kind: 'starting';
}

/** `[gateway] ready`. */
export interface ReadyEvent extends EventBase {
  kind: 'ready';
}

/** `FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory`. */
export interface HeapOomEvent extends EventBase {
  kind: 'heap_oom';
}

/** Kernel: `Out of memory: Killed process <pid> (openclaw-gatewa) …` / `Memory cgroup out of memory: …`. */
export interface KernelOomEvent extends EventBase {
  kind: 'kernel_oom';
  pid?: number;
  process?: string;
  /** Does the killed process look like OpenClaw (openclaw*, node)? */
  openclaw: boolean;
}

/** Telegram channel: `409 Conflict: terminated by other getUpdates request`. */
export interface TelegramConflictEvent extends EventBase {
  kind: 'telegram_conflict';
}

/** `Gateway start blocked: set gateway.mode=local …` (only without a config backup). */
export interface ModeBlockedEvent extends EventBase {
  kind: 'mode_blocked';
}

/** `[gateway] device token rotated device=<id> role=… scopes=…` (`openclaw devices rotate`) or `… revoked …`. */
export interface DeviceTokenChangeEvent extends EventBase {
  kind: 'device_token_change';
  action: 'rotated' | 'revoked';
  deviceId?: string;
  role?: string;
}

/** Any other `Gateway failed to start: …` line. */
export interface StartFailedEvent extends EventBase {
  kind: 'start_failed';
  detail: string;
}

/** One typed event from a gateway log line. */
export type LogEvent =
  | UnauthorizedEvent
  | ClosedBeforeConnectEvent
  | WebchatConnectedEvent
  | WebchatDisconnectedEvent
  | ReloadEvent
  | ConfigAutoRestoredEvent
  | PluginFailureEvent
  | PortConflictEvent
  | SecondGatewayEvent
  | ShutdownEvent
  | StartingEvent
  | ReadyEvent
  | HeapOomEvent
  | KernelOomEvent
  | TelegramConflictEvent
  | ModeBlockedEvent
  | StartFailedEvent
  | DeviceTokenChangeEvent;

export type LogEventKind = LogEvent['kind'];

/** A TCP listener as `ss -tlnp` or `gateway status` shows it. */
export interface Listener {
  address: string;
  port: number;
  /** Process name (truncated to 15 chars by the kernel: `openclaw-gatewa`). Unknown when not visible to the user. */
  process?: string;
  pid?: number;
  /** The owner's fd of the socket (`ss -p` prints it; the light probe checks it next time instead of `ss -p`). */
  fd?: number;
  user?: string;
  commandLine?: string;
}

/** The parsed `openclaw gateway status [--json]`. */
export interface GatewayStatus {
  format: 'json' | 'text';
  cliVersion?: string;
  gatewayVersion?: string;
  logFile?: string;
  /** Did the CLI's own RPC probe succeed? null when the output did not say. */
  probeOk: boolean | null;
  probeError?: string;
  /** 2026.9: rpc.connectFailure.kind (`auth-rejected`, `unreachable`). Derived from the error text on 2026.4. */
  probeFailureKind?: string;
  /** 2026.9: rpc.connectFailure.detailCode (`AUTH_TOKEN_MISMATCH`). */
  probeDetailCode?: string;
  /** The probe was refused by auth (token/device token mismatch). */
  probeAuthRejected: boolean;
  /** connect ECONNREFUSED: nothing listens. */
  probeRefused: boolean;
  /** `gateway rejected websocket upgrade (HTTP 200)`: something that is not a gateway answers on the port. */
  probeForeignHttp: boolean;
  probeUrl?: string;
  bindMode?: string;
  bindHost?: string;
  port?: number;
  portStatus?: 'busy' | 'free' | string;
  portListeners: Listener[];
  portHints: string[];
  /** `Port is in use but process details are unavailable`. */
  portOwnerHidden: boolean;
  configCliPath?: string;
  configServicePath?: string;
  serviceLabel?: string;
  serviceLoaded?: boolean;
  serviceRuntimeStatus?: string;
  /** The service's command line mentions `--token` (value never kept). */
  serviceTokenOverride: boolean;
}

/** Memory use of the host (`free -m`) or of the container (`docker stats`). */
export interface MemoryInfo {
  source: 'free' | 'docker-stats';
  totalMb?: number;
  usedMb?: number;
  availableMb?: number;
  swapTotalMb?: number;
  swapUsedMb?: number;
  /** 0..100: (total - available) / total for free, MemPerc for docker. */
  usedPercent: number;
}

/** Supervisor state: systemd `show` properties or `docker inspect` fields. */
export interface ServiceState {
  source: 'systemd' | 'docker' | 'command';
  active?: boolean;
  activeState?: string;
  subState?: string;
  /**
   * systemd NRestarts, or docker RestartCount: restarts the supervisor made by itself since the last
   * manual start. For docker only the restart policy counts (a `docker start`/`restart` resets it), so
   * a count above 0 means the main process died on its own: a crash.
   */
  restarts?: number;
  exitStatus?: number;
  result?: string;
  oomKilled?: boolean;
  /** docker: State.StartedAt, the last (re)start of the container, ISO. */
  startedAt?: string;
  /** docker: State.FinishedAt, the last time its main process ended (a crash, a stop), ISO; absent when never. */
  finishedAt?: string;
  /** docker: HostConfig.RestartPolicy.Name (no, always, unless-stopped, on-failure). */
  restartPolicy?: string;
  /** ExecStart (or container command) passes `--token`: a persistent stale override. Value redacted on the host. */
  tokenOverride: boolean;
  /** Drop-in files of the unit (systemd), where an override may live. */
  dropIns: string[];
  /** Redacted one-line description for evidence. */
  summary: string;
}

/** `openclaw health --json`: plugin errors and overall health. */
export interface HealthInfo {
  ok: boolean | null;
  pluginsLoaded: string[];
  pluginErrors: Array<{ id: string; error: string; phase?: string }>;
  hotReloadStatus?: string;
}

/** Non-secret config facts (never a token value). */
export interface ConfigFacts {
  path?: string;
  mode?: string;
  bind?: string;
  port?: number;
  remoteUrl?: string;
  authMode?: string;
  authTokenSet?: boolean;
  remoteTokenSet?: boolean;
  allowedOrigins: string[];
  /** Times (ISO) of the newest `openclaw.json.clobbered.<time>` copies beside the config (an auto-restore leaves one). */
  clobberedAt?: string[];
  /** The config file was present and readable. */
  readable: boolean;
}

/** One raw section of the evidence script's output. */
export interface EvidenceSection {
  name: string;
  rc: number | null;
  output: string;
}

/** Everything one diagnose pass learned about a host, each section parsed on its own. */
export interface Evidence {
  /** Host clock at collection (`date -u`), ISO. */
  hostNow?: string;
  /** `2026.9.6` from `openclaw --version`. */
  version?: string;
  gatewayStatus?: GatewayStatus;
  /** Listeners on the gateway port (ss, merged with sudo ss when allowed). */
  listeners: Listener[];
  memory?: MemoryInfo;
  /** Container memory for docker installs. */
  containerMemory?: MemoryInfo;
  kernelOom: LogEvent[];
  service?: ServiceState;
  /** Gateway log events, oldest first, from file log, journal or docker logs (deduplicated). */
  logEvents: LogEvent[];
  /** Which log sources produced lines ("file:/tmp/openclaw/…", "journal", "docker"). */
  logSources: string[];
  /** Time of the newest line seen in any log source. */
  lastLogTime?: string;
  health?: HealthInfo;
  config?: ConfigFacts;
  /** GATEWAY_URL from the inventory's envFile, if any. */
  envGatewayUrl?: string;
  /** Sections that could not be gathered, with the reason ("health: timed out after 15 s"). */
  gaps: string[];
  /**
   * A credential-free WebSocket upgrade of the inventory's public gateway URL, made from where
   * clawmedic runs (not over SSH); absent when the inventory has no URL.
   */
  externalProbe?: { url: string; ok: boolean; status?: number; error?: string };
  /** Raw sections by name (redacted output) for debugging and `/diagnose --raw`. */
  sections: Record<string, EvidenceSection>;
}
