/**
 * The fix step scripts of docker installs that run in a one-off container of the gateway's image.
 */
import type { HostConfig } from '../domain/host.js';
import { shellQuote } from '../util/shell-quote.js';
import { CONFIG_KEY_DIFF_JS, DOCTOR_BACKUP_MARK, DOCTOR_CHANGED_MARK, PLUGIN_ID_RE } from './fix-scripts.js';
import { containerOf, requireContainer, TemplateError, TIMEOUT_PRELUDE } from './host-commands.js';

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
