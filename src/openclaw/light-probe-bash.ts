/**
 * The light probe's fast path, for hosts with bash ≥ 4.4 (every mainstream distribution): no `ss -p`, no curl.
 * Measured on a 2-core VM: `ss -tlnp` ~14 ms of CPU (it reads every process's fd table to name owners),
 * `timeout 3 curl` ~30 ms (curl's start-up links TLS and HTTP/2 libraries), where reading /proc/net/tcp{,6}
 * with `mapfile` costs ~2 ms and a GET over bash's /dev/tcp ~2 ms. The owner of the listening socket is
 * checked in the fd table of one candidate pid (the gateway pid the previous probe found) with one `find`;
 * `ss -tlnp` runs only when that does not name the owner (first probe, a restarted gateway, a foreign program).
 * Pure: builds text; every inventory value is a validated number here, the version lookup quotes the bin path.
 */
import { RC_MARK, SECTION_MARK } from './evidence-sections.js';

/** Deadlines and limits the fast path shares with the POSIX path (light-probe.ts re-exports them). */
export interface BashProbeLimits {
  /** Seconds to wait for the status line, then for each header line and the body (a listener that never answers). */
  answerSec: number;
  /** Seconds after which the whole GET (connect included) is abandoned and its subshell killed. */
  killAfterSec: number;
  /** Characters of the body kept. */
  bodyBytes: number;
}

/** The gateway's pid and the fds of its listening sockets, as the previous probe found them. */
export interface OwnerHint {
  pid: number;
  fds: number[];
}

/** A hint with integer pid > 1 and 1–4 integer fds, else undefined (they are pasted into the script). */
export function validHint(h: OwnerHint | undefined): OwnerHint | undefined {
  if (!h || !Number.isInteger(h.pid) || h.pid <= 1) return undefined;
  const fds = [...new Set(h.fds)].filter((f) => Number.isInteger(f) && f >= 0 && f < 1 << 20).slice(0, 4);
  return fds.length ? { pid: h.pid, fds } : undefined;
}

/** Port as /proc/net/tcp prints it (upper-case hex, 4 digits). */
export function procNetPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}

/** Shell snippets both paths print their sections with. */
export const SECTION_FNS = [`_cm_s() { printf '\\n${SECTION_MARK}%s\\n' "$1"; }`, `_cm_e() { printf '\\n${RC_MARK}%s\\n' "$1"; }`];

/**
 * The bash text of the fast path. `hint` is the gateway pid and listening fds the previous probe found; `httpFallback` is the POSIX curl/wget snippet, run when this bash has no /dev/tcp.
 * `ssListeners` is the POSIX `ss -tlnp` snippet (section `listeners`, sets `_cm_pid`).
 * `tail` prints gateway_memory / host_memory / version from `$_cm_pid`.
 */
export function bashFastPath(opts: {
  port: number;
  hint?: OwnerHint;
  limits: BashProbeLimits;
  ssListeners: string;
  httpFallback: string;
  tail: string;
}): string {
  const { port, limits } = opts;
  const hex = procNetPort(port);
  const hint = validHint(opts.hint);
  const L: string[] = [];
  // `sh` that is bash runs in POSIX mode, where bash < 5.1 has no process substitution.
  L.push('set +o posix 2>/dev/null; LC_ALL=C');
  L.push(...SECTION_FNS);
  // 1. Listening sockets on the port: "<hex addr:port> <inode> <uid>", from the kernel's tables (no fork).
  // The kernel lists listening sockets first (then SYN_RECV / established / TIME_WAIT, which can be thousands
  // of lines on a busy host): stop at the first other state. Reading to the end costs ~10 ms per 700 lines.
  // `read` on a /proc file re-generates it from the start at every line (bash seeks back after each read),
  // so lines come in chunks of 128 with mapfile on one open fd. Also notes an accept queue that is full
  // (rx_queue > tx_queue on a LISTEN line: a connect would hang, the kernel drops the SYN).
  L.push('_cm_s sockets; _cm_inos=; _cm_uids=; _cm_full=; set -f');
  L.push('for _cm_f in /proc/net/tcp /proc/net/tcp6; do [ -r "$_cm_f" ] || continue; exec {_cm_fd}<"$_cm_f"; _cm_h=1; _cm_more=1');
  L.push('  while [ -n "$_cm_more" ] && mapfile -t -n 128 -u "$_cm_fd" _cm_L && [ ${#_cm_L[@]} -gt 0 ]; do');
  L.push('    for _cm_l in "${_cm_L[@]}"; do [ -n "$_cm_h" ] && { _cm_h=; continue; }; set -- $_cm_l');
  L.push('      case "$4" in 0A) ;; 03) continue ;; *) _cm_more=; break ;; esac');
  L.push(`      [ "\${2##*:}" = ${hex} ] || continue; printf '%s %s %s %s\\n' "$2" "\${10}" "$8" "$5"; _cm_inos="$_cm_inos \${10}"; _cm_uids="$_cm_uids $8"`);
  L.push('      [ $((16#${5#*:})) -gt $((16#${5%%:*})) ] 2>/dev/null && _cm_full=1');
  L.push('    done; done; exec {_cm_fd}<&-; done; set +f; unset _cm_L; _cm_e 0');
  // 2. Owner: the hinted pid's hinted fds are these sockets (fdinfo's `ino:`, Linux ≥ 5.14; else one find
  // over that pid's fds), else ss names it.
  L.push('_cm_s owner; _cm_pid=; _cm_own=');
  if (hint) {
    const pid = hint.pid;
    L.push(`if [ -n "$_cm_inos" ] && [ -d /proc/${pid}/fd ]; then _cm_c=; read -r _cm_c </proc/${pid}/comm 2>/dev/null; _cm_m=; _cm_noino=`);
    L.push(`  for _cm_d in ${hint.fds.join(' ')}; do _cm_k=; [ -S /proc/${pid}/fd/$_cm_d ] || continue`);
    L.push(`    while IFS=$': \\t' read -r _cm_k _cm_v; do [ "$_cm_k" = ino ] && { _cm_m="$_cm_m [$_cm_v]:$_cm_d"; break; }; done </proc/${pid}/fdinfo/$_cm_d 2>/dev/null`);
    L.push('    [ "$_cm_k" = ino ] || _cm_noino=1; done');
    L.push(`  if [ -n "$_cm_noino" ]; then set -f; _cm_x=; for _cm_i in $_cm_inos; do _cm_x="$_cm_x -o -lname socket:\\[$_cm_i\\]"; done`);
    L.push(`    _cm_m=$(find /proc/${pid}/fd -mindepth 1 -maxdepth 1 \\( \${_cm_x# -o } \\) -printf ' %l:%f' 2>/dev/null); set +f; _cm_m=\${_cm_m//socket:/}; fi`);
    L.push(`  _cm_own=1; for _cm_i in $_cm_inos; do case "$_cm_m " in *"[$_cm_i]:"*) _cm_d=\${_cm_m#*"[$_cm_i]:"}; printf '%s %s %s %s\\n' "$_cm_i" ${pid} "\${_cm_d%% *}" "$_cm_c" ;; *) _cm_own= ;; esac; done`);
    L.push(`  [ -n "$_cm_own" ] && _cm_pid=${pid}; fi`);
  }
  L.push('_cm_e 0');
  // ss only when a socket's owner is still unknown and ss could see it (root, or the socket is ours).
  L.push('if [ -n "$_cm_inos" ] && [ -z "$_cm_own" ]; then _cm_see=; [ "$EUID" = 0 ] && _cm_see=1');
  L.push('  for _cm_u in $_cm_uids; do [ "$_cm_u" = "$EUID" ] && _cm_see=1; done');
  L.push(`  if [ -n "$_cm_see" ] && command -v ss >/dev/null 2>&1; then ${opts.ssListeners}; fi; fi`);
  // 3. GET /healthz over /dev/tcp in a subshell the main shell waits for with a deadline, then kills.
  const req = `GET /healthz HTTP/1.0\\r\\nHost: 127.0.0.1:${port}\\r\\nUser-Agent: clawmedic-light-probe\\r\\nAccept: application/json\\r\\nConnection: close\\r\\n\\r\\n`;
  const a = limits.answerSec;
  // No subshell (a fork costs ~5 ms of CPU here): every read has a deadline, the total is capped at
  // killAfterSec by $SECONDS (1 s granularity), and a connect that would hang (full accept queue) is not made.
  const k = limits.killAfterSec;
  L.push('_cm_s healthz; _cm_t0=$SECONDS; _cm_rc=; _cm_c=; _cm_b=');
  L.push(`_cm_w() { _cm_W=$((_cm_t0 + ${k} - SECONDS)); [ $_cm_W -gt ${a} ] && _cm_W=${a}; [ $_cm_W -gt 0 ]; }`);
  L.push('if [ -n "$_cm_full" ]; then _cm_rc=124');
  L.push(`elif { exec 3<>/dev/tcp/127.0.0.1/${port}; } 2>/dev/null; then`);
  L.push(`  printf '${req}' >&3 2>/dev/null`);
  L.push('  IFS= read -r -t ' + String(a) + ' _cm_l <&3; _cm_r=$?; _cm_l=${_cm_l%$\'\\r\'}');
  L.push('  if [ $_cm_r -gt 128 ]; then _cm_rc=28');
  L.push('  else case "$_cm_l" in "") _cm_rc=52 ;; HTTP/*" "[0-9][0-9][0-9]*) _cm_c=${_cm_l#* }; _cm_c=${_cm_c:0:3} ;; *) _cm_rc=8 ;; esac; fi');
  L.push('  while [ -z "$_cm_rc" ]; do _cm_w || { _cm_rc=124; break; }; IFS= read -r -t $_cm_W _cm_l <&3; _cm_r=$?');
  L.push('    [ $_cm_r -gt 128 ] && { _cm_rc=28; break; }; _cm_l=${_cm_l%$\'\\r\'}; [ -z "$_cm_l" ] && break; [ $_cm_r = 0 ] || _cm_rc=52; done');
  L.push(`  if [ -z "$_cm_rc" ]; then _cm_rc=0; _cm_w && IFS= read -r -d '' -N ${limits.bodyBytes} -t $_cm_W _cm_b <&3 2>/dev/null; fi; exec 3<&-`);
  L.push('else');
  // Refused, or a bash built without /dev/tcp: only this (rare) path pays a subshell to read the error.
  L.push(`  _cm_x=$({ exec 3<>/dev/tcp/127.0.0.1/${port}; } 2>&1); case "$_cm_x" in *'No such file'*) _cm_rc=nodevtcp ;; *refused*|'') _cm_rc=7 ;; *) _cm_rc=1 ;; esac`);
  L.push('fi');
  L.push(`if [ "$_cm_rc" = nodevtcp ]; then ${opts.httpFallback}`);
  L.push(`else printf 'via=bash\\nrc=%s\\ncode=%s\\nbody:\\n%s' "$_cm_rc" "$_cm_c" "\${_cm_b//@/?}"; fi`);
  L.push('_cm_e 0');
  L.push(opts.tail);
  return L.join('\n');
}
