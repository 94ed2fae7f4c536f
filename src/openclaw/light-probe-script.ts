/**
 * The light probe's script: `ss -tlnp` on the gateway port, one HTTP GET of the gateway's own
 * `/healthz` under a hard deadline, memory from /proc, the installed version from package.json; with
 * bash ≥ 4.4 on the host the fast path (light-probe-bash.ts), else POSIX tools. Every value quoted.
 */
import type { HostConfig } from '../domain/host.js';
import { shellQuote } from '../util/shell-quote.js';
import { shellPath, TemplateError, TIMEOUT_PRELUDE } from './templates.js';
import { bashFastPath, SECTION_FNS, type OwnerHint } from './light-probe-bash.js';

/** curl's / wget's own deadline for GET /healthz (the gateway answers in ~1 ms on loopback). */
export const HEALTHZ_MAX_TIME_SEC = 2;
/** Hard deadline around the HTTP client (`timeout`), for a client that ignores its own. */
export const HEALTHZ_KILL_AFTER_SEC = 3;
/** Exec deadline of the whole light probe script: the HTTP deadline plus ss and /proc reads, with slack. */
export const LIGHT_PROBE_TIMEOUT_MS = 10_000;
/** Bytes of the HTTP body shipped back (enough to recognise the gateway's JSON; a foreign page is cut). */
export const HEALTHZ_BODY_BYTES = 512;
/** Marker between the body and the HTTP status code that curl's `-w` appends. */
const CODE_MARK = '_CM_HTTP_CODE_=';

/** Options of one probe run. */
export interface LightProbeOptions {
  /**
   * The gateway pid the previous probe of this host found: the fast path checks that this process holds
   * the listening socket (one `find` over its fds) instead of `ss -p` reading every process's fds.
   */
  hint?: OwnerHint;
}

/** `ss -tlnp` filtered to the port (header kept), section `listeners`; sets `_cm_pid` to the first owner named. */
function posixSsListeners(port: number): string {
  return [
    `_cm_o=$(ss -tlnp 2>&1); _cm_rc=$?; _cm_s listeners; _cm_pid=`,
    `while IFS= read -r _cm_l; do case "$_cm_l" in State*) printf '%s\\n' "$_cm_l" ;;`,
    `  *":${port} "*|*":${port}\t"*) printf '%s\\n' "$_cm_l"; if [ -z "$_cm_pid" ]; then case "$_cm_l" in *pid=*) _cm_p=\${_cm_l#*pid=}; _cm_pid=\${_cm_p%%[!0-9]*} ;; esac; fi ;;`,
    'esac; done <<_CM_EOF',
    '$_cm_o',
    '_CM_EOF',
    '_cm_e $_cm_rc',
  ].join('\n');
}

/** GET /healthz with curl (or wget) under `_cm_to`: prints `via=`, `rc=`, `code=`, `body:` and the cut body. */
function posixHttpGet(port: number): string {
  const url = shellQuote(`http://127.0.0.1:${port}/healthz`);
  const max = HEALTHZ_MAX_TIME_SEC;
  const kill = HEALTHZ_KILL_AFTER_SEC;
  // -w's format is a literal string: one starting with '@' would make curl read the format from a file.
  const curlFormat = shellQuote(`${CODE_MARK}%{http_code}`);
  return [
    'if command -v curl >/dev/null 2>&1; then',
    `  _cm_b=$(_cm_to ${kill} curl -s --max-time ${max} -w ${curlFormat} ${url} 2>/dev/null); _cm_rc=$?`,
    `  printf 'via=curl\\nrc=%s\\ncode=%s\\n' "$_cm_rc" "\${_cm_b##*${CODE_MARK}}"; _cm_b=\${_cm_b%${CODE_MARK}*}`,
    'elif command -v wget >/dev/null 2>&1; then',
    `  _cm_b=$(_cm_to ${kill} wget -q -O - -T ${max} ${url} 2>/dev/null); _cm_rc=$?`,
    `  printf 'via=wget\\nrc=%s\\ncode=\\n' "$_cm_rc"`,
    "else printf 'via=none\\n'; _cm_b=; fi",
    // At most HEALTHZ_BODY_BYTES of the body, '@' replaced so no foreign body can forge a section marker.
    `printf 'body:\\n'; [ -n "$_cm_b" ] && printf '%s' "$_cm_b" | head -c ${HEALTHZ_BODY_BYTES} | tr '@' '?'`,
  ].join('\n');
}

/** gateway_memory (from `$_cm_pid`), host_memory and, for native installs, version: builtins only, stopping at the last line wanted. */
function probeTail(host: HostConfig, bash: boolean): string {
  const L: string[] = [];
  L.push(
    `_cm_s gateway_memory; if [ -n "$_cm_pid" ] && [ -r "/proc/$_cm_pid/status" ]; then printf 'pid=%s\\n' "$_cm_pid"; ` +
      `_cm_mt=; while IFS= read -r _cm_l; do case "$_cm_l" in Name:*MainThread) printf '%s\\n' "$_cm_l"; _cm_mt=1 ;; Name:*|VmHWM:*) printf '%s\\n' "$_cm_l" ;; VmRSS:*) printf '%s\\n' "$_cm_l"; break ;; esac; done < "/proc/$_cm_pid/status"; ` +
      // Node >= 24 names its main thread `MainThread`, which is what ss and /proc show for a Node program that
      // sets no title: print the program (argv[0] only — later arguments may hold secrets) so it can be named.
      `[ -n "$_cm_mt" ] && printf 'argv0=%s\\n' "$(head -c 256 "/proc/$_cm_pid/cmdline" | tr '\\000@' '\\n?' | head -n 1)"; _cm_e 0; else _cm_e 1; fi`,
  );
  L.push(
    `_cm_s host_memory; if [ -r /proc/meminfo ]; then while IFS= read -r _cm_l; do case "$_cm_l" in MemTotal:*) printf '%s\\n' "$_cm_l" ;; MemAvailable:*) printf '%s\\n' "$_cm_l"; break ;; esac; done < /proc/meminfo; _cm_e 0; else _cm_e 1; fi`,
  );
  // The installed version without running the CLI (~0.5 s and ~100 MB): the package.json of the package the
  // openclaw bin belongs to. Native installs only: a container's files are not the host's (see
  // buildDockerVersionScript in docker-version.ts, run once per container by the caller).
  if (host.install === 'native') {
    L.push(`_cm_s version; ${packageVersionSearch(host.openclaw.bin, bash)}; _cm_e $_cm_v`);
  }
  return L.join('\n');
}

/**
 * Shell that prints the version from the package.json of the package the openclaw bin `bin` belongs to and
 * leaves `_cm_v` 0 (found) or 1. Tried without a fork first (next to the bin; npm's global prefix/lib layout;
 * node_modules/.bin), then next to the bin's real path (readlink -f). `bash`: the bin's path from bash's
 * command hash (no subshell); else POSIX `command -v` in a command substitution.
 */
export function packageVersionSearch(bin: string, bash: boolean): string {
  return (
    `_cm_v=1; _cm_nm=${shellPath(bin)}; ` +
    (bash
      ? `_cm_b=; case "$_cm_nm" in */*) [ -x "$_cm_nm" ] && _cm_b=$_cm_nm ;; *) hash "$_cm_nm" 2>/dev/null && _cm_b=\${BASH_CMDS[$_cm_nm]} ;; esac; [ -n "$_cm_b" ] && `
      : `_cm_b=$(command -v "$_cm_nm" 2>/dev/null) && `) +
    `_cm_d=\${_cm_b%/*} && ` +
    `for _cm_j in "$_cm_d/package.json" "$_cm_d/../lib/node_modules/openclaw/package.json" "$_cm_d/../openclaw/package.json" R; do ` +
    `if [ "$_cm_j" = R ]; then _cm_r=$(readlink -f "$_cm_b" 2>/dev/null) || break; _cm_j=\${_cm_r%/*}/package.json; fi; [ -r "$_cm_j" ] || continue; _cm_n=; _cm_ver=; ` +
    `while IFS= read -r _cm_l; do case "$_cm_l" in *'"name": "openclaw"'*|*'"name":"openclaw"'*) _cm_n=1 ;; *'"version":'*) [ -n "$_cm_ver" ] || _cm_ver=$_cm_l ;; esac; [ -n "$_cm_n" ] && [ -n "$_cm_ver" ] && break; done < "$_cm_j"; ` +
    `if [ -n "$_cm_n" ] && [ -n "$_cm_ver" ]; then _cm_ver=\${_cm_ver#*'"version":'}; _cm_ver=\${_cm_ver#*'"'}; printf '%s\\n' "\${_cm_ver%%'"'*}"; _cm_v=0; break; fi; done`
  );
}

/** True when this shell is bash ≥ 4.4 (POSIX syntax, so any sh can evaluate it). */
const BASH_OK =
  '_cm_bashok() { _cm_V=${BASH_VERSION:-0.0}; _cm_M=${_cm_V%%.*}; _cm_m=${_cm_V#*.}; _cm_m=${_cm_m%%.*}; ' +
  '[ "$_cm_M" -gt 4 ] 2>/dev/null || { [ "$_cm_M" = 4 ] && [ "$_cm_m" -ge 4 ] 2>/dev/null; }; }';
/** Exit status of the fast path's `bash -c` when that bash is too old: the POSIX path runs instead. */
const BASH_TOO_OLD = 99;

/**
 * Build the light probe script for a host. Sections: `sockets` (fast path: LISTEN sockets on the port from
 * /proc/net/tcp{,6}, "<hex addr:port> <inode> <uid>"), `owner` ("<inode> <pid> <comm>" when the hinted pid
 * holds them), `listeners` (`ss -tlnp` filtered to the port, when the owner is otherwise unknown; always on
 * the POSIX path), `healthz` (`via=bash|curl|wget|none`, `rc=`, `code=`, then at most HEALTHZ_BODY_BYTES of
 * the body), `gateway_memory`, `host_memory`, `version`.
 * Requires a POSIX sh; with bash ≥ 4.4 on the host (the login shell or `bash` on PATH) the fast path runs
 * (/proc, /dev/tcp, no curl, `ss -p` only when needed), else ss + curl/wget as before.
 */
export function buildLightProbeScript(host: HostConfig, opts: LightProbeOptions = {}): string {
  const port = host.gateway.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TemplateError(`${host.name}: invalid gateway port ${String(port)}`, { host: host.name });
  const ss = posixSsListeners(port);
  const http = posixHttpGet(port);
  const tail = probeTail(host, false);
  const fast = [
    BASH_OK,
    `_cm_bashok || exit ${BASH_TOO_OLD}`,
    TIMEOUT_PRELUDE,
    bashFastPath({
      port,
      hint: opts.hint,
      limits: { answerSec: HEALTHZ_MAX_TIME_SEC, killAfterSec: HEALTHZ_KILL_AFTER_SEC, bodyBytes: HEALTHZ_BODY_BYTES },
      ssListeners: ss,
      httpFallback: `{ ${http}; }`,
      tail: probeTail(host, true),
    }),
  ].join('\n');
  const posix = [ss, '_cm_s healthz', http, '_cm_e 0', tail].join('\n');
  return [
    '# clawmedic light probe: read-only',
    TIMEOUT_PRELUDE,
    ...SECTION_FNS,
    BASH_OK,
    `_cm_fast=${shellQuote(fast)}`,
    // bash ≥ 4.4 as the login shell: no extra exec; bash elsewhere on PATH: one exec (~3 ms); else POSIX tools.
    'if _cm_bashok; then eval "$_cm_fast"',
    `elif command -v bash >/dev/null 2>&1 && { bash -c "$_cm_fast"; [ $? != ${BASH_TOO_OLD} ]; }; then :`,
    'else',
    posix,
    'fi',
  ].join('\n');
}
