/**
 * Fixed remote command templates for OpenClaw hosts: read-only probes and the fix step scripts.
 * Every inventory value enters a script through shellQuote/shellPath (messages included); chat text
 * never does. Names handed to docker, systemctl, journalctl and node follow `--` (or ride in an
 * `--opt=value` word), so a name starting with `-` is never read as an option.
 */
import type { HostConfig } from '../domain/host.js';
import { shellQuote } from '../util/shell-quote.js';

/** Portable `timeout`: hosts without coreutils' timeout (busybox-less macOS) still run the command. */
export const TIMEOUT_PRELUDE =
  '_cm_to() { if command -v timeout >/dev/null 2>&1; then timeout "$@"; else shift; "$@"; fi; }';

/** Set XDG_RUNTIME_DIR when an SSH session lacks it, so `systemctl --user` finds the user bus. */
const XDG_PREFIX = 'XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}"';

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

function requireContainer(host: HostConfig): string {
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
  'SIGTERM|shutdown|completed cleanly|ready|loading configuration|heap|Killed process|409|Gateway failed to start|Gateway start blocked';

// ---------------------------------------------------------------------------------------------
// Fix step scripts. Each is a complete POSIX sh script; values are quoted; exit code is meaningful.

/** First word of the line listing the config keys doctor changed (read by the fix result). */
export const DOCTOR_CHANGED_MARK = 'clawmedic: doctor changed config keys:';
/** First word of the line naming the config backup doctor left. */
export const DOCTOR_BACKUP_MARK = 'clawmedic: config backup:';

/**
 * Compares two openclaw.json files and prints the dotted paths whose values differ, never a value
 * (the config holds the gateway token). Run by the host's node, the one OpenClaw itself runs on.
 */
const CONFIG_KEY_DIFF_JS =
  "const fs=require('fs');const r=(f)=>{try{return JSON.parse(fs.readFileSync(f,'utf8'))}catch{return null}};" +
  "const a=r(process.argv[1]),b=r(process.argv[2]);if(!a||!b)process.exit(0);const out=[];" +
  "const o=(x)=>x!==null&&typeof x==='object'&&!Array.isArray(x);" +
  "const w=(x,y,p)=>{if(o(x)&&o(y)){for(const k of new Set([...Object.keys(x),...Object.keys(y)]))w(x[k],y[k],p?p+'.'+k:k)}" +
  "else if(JSON.stringify(x)!==JSON.stringify(y))out.push(p||'(whole file)')};w(a,b,'');" +
  "console.log(process.argv[3]+' '+(out.length?out.slice(0,40).join(', ')+(out.length>40?' (+'+(out.length-40)+' more)':''):'none'))";

/**
 * `openclaw doctor --fix` (headless: stdin closed, so prompts are skipped). Doctor may rewrite
 * openclaw.json: on a native install the script snapshots it first and reports the changed key
 * paths (never values) and the backup doctor left, so the result can show its side effects.
 */
export function doctorFixScript(host: HostConfig): string {
  const run = `${openclawTimed(host, 170, ['doctor', '--fix'])} 2>&1`;
  if (host.install === 'docker') return `${TIMEOUT_PRELUDE}\n${run}`;
  const cfg = `${shellPath(host.openclaw.stateDir ?? '~/.openclaw')}/openclaw.json`;
  return [
    TIMEOUT_PRELUDE,
    `_cm_snap=$(mktemp 2>/dev/null || echo /tmp/clawmedic-doctor.$$); cp -p ${cfg} "$_cm_snap" 2>/dev/null`,
    run,
    '_cm_rc=$?',
    `if command -v node >/dev/null 2>&1 && [ -s "$_cm_snap" ]; then node -e ${shellQuote(CONFIG_KEY_DIFF_JS)} -- "$_cm_snap" ${cfg} ${shellQuote(DOCTOR_CHANGED_MARK)}; fi`,
    `_cm_bak=$(ls -1t ${cfg}.bak* 2>/dev/null | head -n 1); [ -n "$_cm_bak" ] && printf '%s %s\n' ${shellQuote(DOCTOR_BACKUP_MARK)} "$_cm_bak"`,
    'rm -f "$_cm_snap"',
    'exit $_cm_rc',
  ].join('\n');
}

/**
 * Builds the dashboard link from the config file on the host, for OpenClaw 2026.4 (no `dashboard
 * --json`; the plain command prints the URL without the token). Prints `{"ok":true,"url":…}` like
 * 2026.9; the token stays on the host until it reaches the step's secret output.
 */
const LINK_FROM_CONFIG_JS =
  "const fs=require('fs');let c;try{c=JSON.parse(fs.readFileSync(process.argv[1],'utf8'))}catch{process.exit(3)}" +
  "const g=c.gateway||{};const t=g.auth&&g.auth.token;if(typeof t!=='string'||!t)process.exit(4);" +
  "const port=Number(g.port)||Number(process.argv[2]);const tls=g.tls&&g.tls.enabled;" +
  "console.log(JSON.stringify({ok:true,url:(tls?'https':'http')+'://127.0.0.1:'+port+'/#token='+encodeURIComponent(t)}))";

/**
 * A fresh tokenized dashboard link; the output is secret (delivered privately, never logged or
 * queued). Native installs: built on the host from the config file's token by node, the link
 * `openclaw dashboard --json --no-open` prints (`http://127.0.0.1:<port>/#token=…`) without its
 * ~20 s of CLI on a real 2026.9.6 host (issue 11: a fresh-link fix in seconds); the CLI only when node
 * cannot (no node, no plain token). The CLI is also what 2026.4 lacks (`--json`: "unknown option").
 * Docker installs: `docker exec … dashboard --json`.
 */
export function dashboardLinkScript(host: HostConfig): string {
  const json = `${openclawTimed(host, 60, ['dashboard', '--json', '--no-open'])} 2>/dev/null`;
  if (host.install === 'docker') return `${TIMEOUT_PRELUDE}\n${json}`;
  const cfg = `${shellPath(host.openclaw.stateDir ?? '~/.openclaw')}/openclaw.json`;
  return [
    TIMEOUT_PRELUDE,
    `if command -v node >/dev/null 2>&1; then _cm_o=$(node -e ${shellQuote(LINK_FROM_CONFIG_JS)} -- ${cfg} ${shellPort(host)}) && { printf '%s\n' "$_cm_o"; exit 0; }; fi`,
    `_cm_o=$(${json}) && printf '%s' "$_cm_o" | grep -q '"url"' && { printf '%s\n' "$_cm_o"; exit 0; }`,
    `echo '{"ok":false,"error":"no link: no plain token in the config and no dashboard --json"}'; exit 1`,
  ].join('\n');
}

/** `openclaw config set gateway.mode local`. */
export function setModeLocalScript(host: HostConfig): string {
  return `${TIMEOUT_PRELUDE}\n${openclawTimed(host, 45, ['config', 'set', 'gateway.mode', 'local'])} 2>&1`;
}

/** Plugin ids as OpenClaw names them (npm-like); anything else is refused before it nears a shell. */
export const PLUGIN_ID_RE = /^[A-Za-z0-9@][A-Za-z0-9@/._-]{0,127}$/;

/** `openclaw plugins disable <id>` (documented CLI; not exercised on the sample install). */
export function disablePluginScript(host: HostConfig, pluginId: string): string {
  if (!PLUGIN_ID_RE.test(pluginId)) {
    throw new TemplateError(`refusing an unusual plugin id: ${JSON.stringify(pluginId.slice(0, 40))}`);
  }
  return `${TIMEOUT_PRELUDE}\n${openclawTimed(host, 60, ['plugins', 'disable', pluginId])} 2>&1`;
}

/** Rewrite the systemd unit from the current config (`gateway install --force`), then reload systemd. */
export function reinstallServiceScript(host: HostConfig): string {
  if (host.supervisor.kind !== 'systemd-user') {
    throw new TemplateError(`${host.name}: gateway install --force only applies to systemd installs`, { host: host.name });
  }
  return [
    TIMEOUT_PRELUDE,
    `${openclawTimed(host, 90, ['gateway', 'install', '--force'])} 2>&1 || exit $?`,
    `${XDG_PREFIX} systemctl --user daemon-reload`,
  ].join('\n');
}

/**
 * Move aside (never delete) the unit's drop-in files that pass `--token`, then reload systemd.
 * A stale `--token` on `gateway run` overrides the config token for as long as the service exists.
 */
export function removeTokenOverrideScript(host: HostConfig): string {
  if (host.supervisor.kind !== 'systemd-user') {
    throw new TemplateError(`${host.name}: token override removal is only automated for systemd units`, { host: host.name });
  }
  const unit = shellQuote(host.supervisor.unit);
  return [
    `export ${XDG_PREFIX}`,
    '_cm_n=0',
    `for _cm_f in $(systemctl --user show -p DropInPaths --value -- ${unit} 2>/dev/null); do`,
    `  if [ -f "$_cm_f" ] && grep -q -e '--token' "$_cm_f"; then`,
    '    mv "$_cm_f" "$_cm_f.clawmedic-disabled-$(date +%s)" && echo "moved aside drop-in $_cm_f" && _cm_n=$((_cm_n+1))',
    '  fi',
    'done',
    'systemctl --user daemon-reload',
    'echo "drop-ins moved aside: $_cm_n (the unit file itself is rewritten by gateway install --force)"',
  ].join('\n');
}

/**
 * Stop the process holding the gateway port, only if it still holds it (pid re-checked with ss,
 * as the user or via `sudo -n`): SIGTERM, then SIGKILL after 3 s. The pid is checked to be an
 * integer above 1 here (no `--` after `kill -9`: dash's kill refuses it); the port is quoted.
 */
export function killPortOwnerScript(host: HostConfig, pid: number): string {
  if (!Number.isInteger(pid) || pid <= 1) throw new TemplateError(`invalid pid ${pid}`);
  const port = host.gateway.port;
  const pat = shellQuote(`:${port}[[:space:]].*pid=${pid},`);
  return [
    `if ss -tlnp 2>/dev/null | grep -Eq ${pat}; then _cm_k=kill;`,
    `elif sudo -n ss -tlnp 2>/dev/null | grep -Eq ${pat}; then _cm_k='sudo -n kill';`,
    `else ${shellMessage(`pid ${pid} no longer holds port ${port}; not killing anything`)}; exit 3; fi`,
    `$_cm_k ${pid} || exit $?`,
    'sleep 3',
    `if kill -0 ${pid} 2>/dev/null || sudo -n kill -0 ${pid} 2>/dev/null; then $_cm_k -9 ${pid}; fi`,
    shellMessage(`stopped pid ${pid} on port ${port}`),
  ].join('\n');
}

/**
 * Put back the config backup doctor --fix left (`openclaw.json.bak`), keeping the current file as
 * `openclaw.json.clawmedic-<time>`. Every path is quoted (the state dir comes from the inventory).
 */
export function restoreConfigBackupScript(host: HostConfig): string {
  const dir = host.openclaw.stateDir ?? '~/.openclaw';
  const cfg = `${shellPath(dir)}/openclaw.json`;
  return [
    `[ -f ${cfg}.bak ] || { ${shellMessage(`no backup ${dir}/openclaw.json.bak to restore`)}; exit 3; }`,
    `cp -p ${cfg} ${cfg}.clawmedic-$(date +%s) && cp -p ${cfg}.bak ${cfg} && echo "restored openclaw.json from openclaw.json.bak"`,
  ].join('\n');
}

/** Supervisor action as a step script (stderr merged so the step output explains a failure). */
export function supervisorScript(host: HostConfig, action: 'start' | 'stop' | 'restart'): string {
  return `{ ${supervisorCmd(host, action)}; } 2>&1`;
}

/**
 * Poll `gateway status --json` until the RPC probe answers ok or `sec` passes. Exit 0 only when the
 * gateway answers: exit codes of restart commands are not trusted (2026.4 exits 0 doing nothing).
 */
export function waitForGatewayScript(host: HostConfig, sec: number): string {
  const status = openclawTimed(host, 30, ['gateway', 'status', '--json']);
  return [
    TIMEOUT_PRELUDE,
    `_cm_end=$(( $(date +%s) + ${Math.max(5, Math.round(sec))} ))`,
    'while :; do',
    `  if ${status} 2>/dev/null | tr -d ' \\n\\r\\t' | grep -q '"rpc":{"ok":true'; then echo 'gateway is answering its probe'; exit 0; fi`,
    `  if [ "$(date +%s)" -ge "$_cm_end" ]; then echo 'gateway did not answer its probe within ${Math.round(sec)} s'; exit 1; fi`,
    '  sleep 2',
    'done',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// One-off containers (docker installs). In a real container the gateway is the main process, so
// `docker exec <c> openclaw doctor --fix` refuses ("another OpenClaw process owns gateway-lifecycle")
// and files under the state dir belong to the container's volumes, not to the SSH user's home. The
// repair runs in a one-off container of the same image with the same volumes, env, user, workdir
// and (host or named) network, while the gateway's container is stopped.

/** Inner scripts of the one-off container get the state dir as `$_cm_d` (OPENCLAW_STATE_DIR or ~/.openclaw). */
const ONEOFF_STATE_DIR = '_cm_d=${OPENCLAW_STATE_DIR:-${HOME:-/root}/.openclaw}';

/**
 * A host script that runs `inner` (sh, inside a one-off container of `host`'s container: same image
 * id, `--volumes-from`, env, user, workdir, network) with `args` as its "$@". The env goes through a
 * private temp file (mode 600, removed on exit): it holds secrets and is never printed. Refuses to
 * run while the gateway's container runs (the repair would race the gateway for its state lock).
 */
export function oneOffScript(host: HostConfig, inner: string, args: readonly string[], sec: number): string {
  const c = shellQuote(requireContainer(host));
  const stateEnv = host.openclaw.stateDir ? ` -e ${shellQuote(`OPENCLAW_STATE_DIR=${host.openclaw.stateDir}`)}` : '';
  const fmt = (f: string) => `docker inspect -f ${shellQuote(f)} -- ${c}`;
  return [
    TIMEOUT_PRELUDE,
    `_cm_run=$(${fmt('{{.State.Running}}')}) || { echo ${shellQuote(`container ${containerOf(host)} not found`)}; exit 3; }`,
    `[ "$_cm_run" = false ] || { echo ${shellQuote(`container ${containerOf(host)} is running: stop it first (the repair needs the gateway stopped)`)}; exit 3; }`,
    `_cm_img=$(${fmt('{{.Image}}')}) || exit 3`,
    `_cm_net=$(${fmt('{{.HostConfig.NetworkMode}}')})`,
    `_cm_user=$(${fmt('{{.Config.User}}')})`,
    `_cm_wd=$(${fmt('{{.Config.WorkingDir}}')})`,
    '_cm_envf=$(umask 077 && mktemp "${TMPDIR:-/tmp}/clawmedic-env.XXXXXX") || exit 3',
    "trap 'rm -f \"$_cm_envf\"' EXIT",
    "trap 'rm -f \"$_cm_envf\"; exit 130' INT TERM HUP",
    `${fmt('{{range .Config.Env}}{{println .}}{{end}}')} >"$_cm_envf" || exit 3`,
    'set --',
    // Network: the same when it is the host's or a named network; the default otherwise (a
    // `container:` network would point at the stopped container).
    'case "$_cm_net" in ""|default|bridge|none|container:*) ;; *) set -- "$@" --network "$_cm_net";; esac',
    '[ -n "$_cm_user" ] && set -- "$@" --user "$_cm_user"',
    '[ -n "$_cm_wd" ] && set -- "$@" --workdir "$_cm_wd"',
    `_cm_name=clawmedic-oneoff-$$-$(date +%s)`,
    // Detached, then `docker wait` under the deadline: a `docker run` client killed by timeout does not
    // stop its container (it forwards SIGTERM to a shell that, as pid 1, ignores it; seen on a real engine).
    `_cm_id=$(docker run -d --name "$_cm_name" --label clawmedic.oneoff=1 --volumes-from ${c} --env-file "$_cm_envf"${stateEnv} "$@" --entrypoint /bin/sh "$_cm_img" -c ${shellQuote(inner)} sh ${args.map(shellQuote).join(' ')} </dev/null) || { echo 'could not start the one-off container'; exit 3; }`,
    `_cm_rc=$(_cm_to ${Math.max(5, Math.round(sec))} docker wait "$_cm_id" 2>/dev/null) || _cm_rc=124`,
    'docker logs "$_cm_id" 2>&1',
    'docker rm -f "$_cm_id" >/dev/null 2>&1',
    'case "$_cm_rc" in ""|*[!0-9]*) _cm_rc=1;; esac',
    `[ "$_cm_rc" = 124 ] && echo ${shellQuote(`the one-off container did not finish within ${Math.max(5, Math.round(sec))} s: removed`)}`,
    'exit $_cm_rc',
  ].join('\n');
}

/** The openclaw command inside a one-off (inventory bin and profile), as words for "$@". */
function oneOffOpenclaw(host: HostConfig, args: readonly string[]): string[] {
  return [host.openclaw.bin, ...(host.openclaw.profile ? ['--profile', host.openclaw.profile] : []), ...args];
}

/**
 * `openclaw doctor --fix` in a one-off container (docker installs; the gateway's container stopped),
 * reporting the config keys doctor changed (never values) and the backup it left, like the native form.
 */
export function containerDoctorFixScript(host: HostConfig): string {
  const inner = [
    ONEOFF_STATE_DIR,
    '_cm_cfg="$_cm_d/openclaw.json"; _cm_snap=$(mktemp 2>/dev/null || echo /tmp/clawmedic-doctor.$$); cp -p "$_cm_cfg" "$_cm_snap" 2>/dev/null',
    '"$@" </dev/null 2>&1',
    '_cm_rc=$?',
    `if command -v node >/dev/null 2>&1 && [ -s "$_cm_snap" ]; then node -e ${shellQuote(CONFIG_KEY_DIFF_JS)} "$_cm_snap" "$_cm_cfg" ${shellQuote(DOCTOR_CHANGED_MARK)}; fi`,
    `_cm_bak=$(ls -1t "$_cm_cfg".bak* 2>/dev/null | head -n 1); [ -n "$_cm_bak" ] && printf '%s %s (in the container state)\\n' ${shellQuote(DOCTOR_BACKUP_MARK)} "$_cm_bak"`,
    'rm -f "$_cm_snap"',
    'exit $_cm_rc',
  ].join('\n');
  return oneOffScript(host, inner, oneOffOpenclaw(host, ['doctor', '--fix']), 290);
}

/** `openclaw plugins disable <id>` in a one-off container (docker installs; the container stopped). */
export function containerDisablePluginScript(host: HostConfig, pluginId: string): string {
  if (!PLUGIN_ID_RE.test(pluginId)) {
    throw new TemplateError(`refusing an unusual plugin id: ${JSON.stringify(pluginId.slice(0, 40))}`);
  }
  return oneOffScript(host, '"$@" </dev/null 2>&1', oneOffOpenclaw(host, ['plugins', 'disable', pluginId]), 90);
}

/**
 * Put back `openclaw.json.bak` in the container's state (its volume), through a one-off container
 * with `--volumes-from`; the current file is kept as `openclaw.json.clawmedic-<time>`. State that is
 * not in a volume cannot be reached this way: the script says so (exit 3) instead of touching the host.
 */
export function containerRestoreConfigBackupScript(host: HostConfig): string {
  const inner = [
    ONEOFF_STATE_DIR,
    '_cm_cfg="$_cm_d/openclaw.json"',
    `[ -f "$_cm_cfg" ] || { echo "no $_cm_cfg in the container's volumes (state outside a volume: restore it by hand with docker cp)"; exit 3; }`,
    `[ -f "$_cm_cfg.bak" ] || { echo "no backup $_cm_cfg.bak to restore"; exit 3; }`,
    'cp -p "$_cm_cfg" "$_cm_cfg.clawmedic-$(date +%s)" && cp -p "$_cm_cfg.bak" "$_cm_cfg" && echo "restored $_cm_cfg from openclaw.json.bak (container state)"',
  ].join('\n');
  return oneOffScript(host, inner, [], 60);
}

/** `openclaw config set gateway.mode local` in a one-off container (a stopped container cannot exec). */
export function containerSetModeLocalScript(host: HostConfig): string {
  return oneOffScript(host, '"$@" </dev/null 2>&1', oneOffOpenclaw(host, ['config', 'set', 'gateway.mode', 'local']), 60);
}
