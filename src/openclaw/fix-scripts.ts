/**
 * The fix step scripts that act on the host itself (its files, processes and supervisor). Each is a
 * complete POSIX sh script; values are quoted; exit code is meaningful.
 */
import type { HostConfig } from '../domain/host.js';
import { shellQuote } from '../util/shell-quote.js';
import {
  openclawTimed,
  shellMessage,
  shellPath,
  shellPort,
  supervisorCmd,
  TemplateError,
  TIMEOUT_PRELUDE,
  XDG_PREFIX,
} from './host-commands.js';

/** First word of the line listing the config keys doctor changed (read by the fix result). */
export const DOCTOR_CHANGED_MARK = 'clawmedic: doctor changed config keys:';
/** First word of the line naming the config backup doctor left. */
export const DOCTOR_BACKUP_MARK = 'clawmedic: config backup:';

/**
 * Compares two openclaw.json files and prints the dotted paths whose values differ, never a value
 * (the config holds the gateway token). Run by the host's node, the one OpenClaw itself runs on.
 */
export const CONFIG_KEY_DIFF_JS =
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
