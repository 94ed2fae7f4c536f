/**
 * The building blocks of every remote script: quoting of inventory values, the `openclaw` command
 * line (native or `docker exec`), supervisor commands, the named read-only commands and the
 * constants scripts share. Every inventory value enters a script through shellQuote/shellPath
 * (messages included); chat text never does. Names handed to docker, systemctl, journalctl and node
 * follow `--` (or ride in an `--opt=value` word), so a name starting with `-` is never read as an option.
 */
import type { HostConfig } from '../domain/host.js';
import { shellQuote } from '../util/shell-quote.js';

/** Portable `timeout`: hosts without coreutils' timeout (busybox-less macOS) still run the command. */
export const TIMEOUT_PRELUDE =
  '_cm_to() { if command -v timeout >/dev/null 2>&1; then timeout "$@"; else shift; "$@"; fi; }';

/** Set XDG_RUNTIME_DIR when an SSH session lacks it, so `systemctl --user` finds the user bus. */
export const XDG_PREFIX = 'XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}"';

/**
 * Thrown when the inventory lacks what a template needs (e.g. a docker install without a container) or a
 * step's parameters are out of bounds; `host` and `step` say where, when the thrower knows.
 */
export class TemplateError extends Error {
  readonly host?: string;
  readonly step?: string;
  constructor(message: string, context: { host?: string; step?: string } = {}) {
    super(message);
    this.name = 'TemplateError';
    this.host = context.host;
    this.step = context.step;
  }
}

/**
 * Quote a host path used as an argument; a leading `~/` becomes `"$HOME"/…` so it still expands on
 * the host (inventory paths for nvm installs are often written that way). A relative path starting
 * with `-` gets `./` in front (the same file), so `cp`, `grep` or `ls` never take it for an option.
 */
export function shellPath(p: string): string {
  if (p.startsWith('-')) return shellQuote(`./${p}`);
  return shellCommandPath(p);
}

/**
 * Quote the path or name of a command (the word the shell runs): like shellPath but without the
 * `./` rule, which would turn a PATH lookup into a relative path. A command word is never an option.
 */
export function shellCommandPath(p: string): string {
  if (p === '~') return '"$HOME"';
  if (p.startsWith('~/')) return `"$HOME"/${shellQuote(p.slice(2))}`;
  return shellQuote(p);
}

/** The gateway port as one quoted word (a number from the schema; quoted anyway, whatever reached us). */
export function shellPort(host: HostConfig): string {
  return shellQuote(String(host.gateway.port));
}

/** `printf '%s\n' <text>`: a message with inventory values in it, printed as data, never expanded. */
export function shellMessage(text: string): string {
  return `printf '%s\\n' ${shellQuote(text)}`;
}

/** The container of a docker install (inventory `container`, else the docker supervisor's). */
export function containerOf(host: HostConfig): string | undefined {
  if (host.container) return host.container;
  if (host.supervisor.kind === 'docker') return host.supervisor.container;
  return undefined;
}

/** Docker's own rule for container names (a container id fits it too). Anything else is refused. */
export const CONTAINER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The container of a docker install, checked against CONTAINER_NAME_RE (TemplateError otherwise). */
export function requireContainer(host: HostConfig): string {
  const c = containerOf(host);
  if (!c) throw new TemplateError(`${host.name}: docker install without a container name in the inventory`, { host: host.name });
  if (!CONTAINER_NAME_RE.test(c)) throw new TemplateError(`${host.name}: refusing an unusual container name ${JSON.stringify(c.slice(0, 40))}`, { host: host.name });
  return c;
}

/**
 * The shell command line running `openclaw <args>` on the host: with the inventory's bin, profile and
 * state dir, and through `docker exec <container>` for docker installs. Args are quoted one by one.
 */
export function openclawCmd(host: HostConfig, args: readonly string[]): string {
  const words: string[] = [];
  const tail = [...(host.openclaw.profile ? ['--profile', host.openclaw.profile] : []), ...args].map(shellQuote);
  if (host.install === 'docker') {
    words.push('docker', 'exec');
    if (host.openclaw.stateDir) words.push('-e', shellQuote(`OPENCLAW_STATE_DIR=${host.openclaw.stateDir}`));
    // After the container comes the command: docker exec reads no options past it.
    words.push('--', shellQuote(requireContainer(host)), shellQuote(host.openclaw.bin));
  } else {
    // `env VAR=value cmd` keeps a quoted assignment working (a quoted prefix assignment would not).
    if (host.openclaw.stateDir) words.push('env', `OPENCLAW_STATE_DIR=${shellPath(host.openclaw.stateDir)}`);
    words.push(shellCommandPath(host.openclaw.bin));
  }
  return [...words, ...tail].join(' ');
}

/** `openclawCmd` under `_cm_to <sec>` (needs TIMEOUT_PRELUDE in the script), stdin closed. */
export function openclawTimed(host: HostConfig, sec: number, args: readonly string[]): string {
  return `_cm_to ${Math.max(1, Math.round(sec))} ${openclawCmd(host, args)} </dev/null`;
}

/** What the supervisor can be asked to do. */
export type SupervisorAction = 'start' | 'stop' | 'restart' | 'status';

/**
 * The command that starts/stops/restarts the gateway the way this host supervises it:
 * systemd user unit, docker container, or the inventory's own start/stop commands (trusted, run as given).
 */
export function supervisorCmd(host: HostConfig, action: SupervisorAction): string {
  const s = host.supervisor;
  switch (s.kind) {
    case 'systemd-user':
      if (action === 'status') {
        return `${XDG_PREFIX} systemctl --user show -p ActiveState,SubState,NRestarts,ExecMainStatus,ExecMainCode,Result,ExecStart,DropInPaths --no-pager -- ${shellQuote(s.unit)}`;
      }
      return `${XDG_PREFIX} systemctl --user ${action} -- ${shellQuote(s.unit)}`;
    case 'docker':
      if (action === 'status') {
        return `docker inspect -f ${shellQuote(DOCKER_INSPECT_FORMAT)} -- ${shellQuote(s.container)}`;
      }
      return `docker ${action} -- ${shellQuote(s.container)}`;
    case 'commands':
      // Inventory start/stop strings are operator-written shell, trusted like the inventory itself.
      if (action === 'start') return `( ${s.start} )`;
      if (action === 'stop') return `( ${s.stop} )`;
      if (action === 'restart') return `( ${s.stop} ); ( ${s.start} )`;
      return s.status ? `( ${s.status} )` : `${shellMessage('no status command in the inventory')}; exit 2`;
  }
}

/** Human description of a supervisor action for confirmations ("systemctl --user stop openclaw-gateway.service"). */
export function describeSupervisor(host: HostConfig, action: SupervisorAction): string {
  const s = host.supervisor;
  switch (s.kind) {
    case 'systemd-user':
      return `systemctl --user ${action} ${s.unit}`;
    case 'docker':
      return `docker ${action} ${s.container}`;
    case 'commands':
      return action === 'restart' ? `${s.stop}; ${s.start}` : action === 'status' ? (s.status ?? '(none)') : s[action];
  }
}

/** `docker inspect -f` format: key=value pairs the evidence parser reads (Cmd is redacted on the host). */
export const DOCKER_INSPECT_FORMAT =
  'Status={{.State.Status}} Running={{.State.Running}} ExitCode={{.State.ExitCode}} OOMKilled={{.State.OOMKilled}} ' +
  'RestartCount={{.RestartCount}} StartedAt={{.State.StartedAt}} FinishedAt={{.State.FinishedAt}} ' +
  'RestartPolicy={{.HostConfig.RestartPolicy.Name}} Cmd={{json .Config.Cmd}}';

/** sed program that removes token values from service definitions before they leave the host. */
export const SED_REDACT_TOKENS =
  "sed -E -e 's/(--token[= ])[^ ;\"]+/\\1<redacted>/g' -e 's/(\"--token\",\")[^\"]*/\\1<redacted>/g' " +
  "-e 's/([A-Za-z0-9_]*(TOKEN|SECRET|PASSWORD|API_KEY)[A-Za-z0-9_]*=)[^ ;\"]+/\\1<redacted>/g'";

/** Named read-only commands (each a complete script; safe to retry). */
export const READ_TEMPLATES = {
  version: (h: HostConfig) => `${TIMEOUT_PRELUDE}\n${openclawTimed(h, 20, ['--version'])}`,
  gatewayStatus: (h: HostConfig) => `${TIMEOUT_PRELUDE}\n${openclawTimed(h, 45, ['gateway', 'status', '--json'])} 2>&1`,
  health: (h: HostConfig) => `${TIMEOUT_PRELUDE}\n${openclawTimed(h, 15, ['health', '--json'])} 2>&1`,
  supervisorStatus: (h: HostConfig) => `{ ${supervisorCmd(h, 'status')}; } 2>&1 | ${SED_REDACT_TOKENS}`,
  listeners: (h: HostConfig) =>
    `ss -tlnp 2>&1 | grep -E ${shellQuote(`^State|:${h.gateway.port}[[:space:]]`)}`,
} as const;
export type ReadTemplateName = keyof typeof READ_TEMPLATES;

/** Gateway log lines worth shipping back (everything the log parser can turn into an event). */
export const LOG_FILTER_ERE =
  'unauthorized|closed before connect|webchat (dis)?connected|reload|auto-restored|failed during load|failed to load|' +
  'failed to stage|plugin failed|failed to install bundled|EADDRINUSE|already listening|StateDatabaseCoordinatorContentionError|' +
  'SIGTERM|shutdown|completed cleanly|ready|loading configuration|heap|Killed process|409|Gateway failed to start|Gateway start blocked|' +
  'device token (rotated|revoked)';
