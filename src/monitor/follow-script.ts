/**
 * The remote scripts that follow a host's gateway log, chosen per host: `tail -F` of the file log
 * (native), `journalctl --user -f` (systemd, when no file log is found), `docker logs -f` (docker).
 *
 * Why not `openclaw logs --follow --json`: it reads the log through the gateway's own RPC, so it is
 * blind exactly when the gateway is down or rejecting tokens — the moments an alert matters most.
 */
import type { HostConfig } from '../domain/host.js';
import { containerOf, openclawTimed, TIMEOUT_PRELUDE } from '../openclaw/templates.js';
import { shellQuote } from '../util/shell-quote.js';
import { parseTime } from '../openclaw/log-parser.js';
import type { ResumePosition } from '../state/incident-store.js';

/** First word of a control line the follow script prints (not a log line). */
export const FOLLOW_MARK = '@@CLAWMEDIC ';

/** How a host's log is followed. */
export type FollowMode = 'file' | 'docker';

export interface FollowScriptOptions {
  /** Log file path learned earlier (from `gateway status --json` `logFile`); resolved on the host when absent. */
  logFile?: string;
  resume?: ResumePosition;
  /** Lines replayed from the end on (re)connect. */
  backlogLines: number;
  /** Seconds between looks for a newer dated log file. */
  rollCheckSec: number;
}

/** docker installs are followed with `docker logs` (the file log is inside the container); others by file. */
export function followModeFor(host: HostConfig): FollowMode {
  return host.install === 'docker' || host.supervisor.kind === 'docker' ? 'docker' : 'file';
}

const DATED = 'openclaw-[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9].log';

/** Build the follow script for `host`. One `tail -F` per host (inotify instances are limited per user). */
export function buildFollowScript(host: HostConfig, opts: FollowScriptOptions): string {
  const n = Math.max(0, Math.round(opts.backlogLines));
  if (followModeFor(host) === 'docker') {
    const container = containerOf(host) ?? 'openclaw';
    const since = opts.resume ? `--since ${shellQuote(new Date(opts.resume.ms - 1000).toISOString())}` : `--tail ${n}`;
    return `exec docker logs -f --timestamps ${since} -- ${shellQuote(container)} 2>&1`;
  }
  const L: string[] = [TIMEOUT_PRELUDE];
  L.push(`_cm_lf=${shellQuote(opts.logFile ?? '')}`);
  // A cached path is used while it (or a dated sibling) exists; otherwise ask the gateway's CLI again.
  L.push(`if [ -n "$_cm_lf" ] && [ ! -e "$_cm_lf" ] && ! ls "$(dirname "$_cm_lf")"/${DATED} >/dev/null 2>&1; then _cm_lf=; fi`);
  L.push(
    `if [ -z "$_cm_lf" ]; then _cm_lf=$(${openclawTimed(host, 30, ['gateway', 'status', '--json'])} 2>/dev/null | sed -n 's/^ *"logFile": *"\\([^"]*\\)".*/\\1/p' | head -n 1); fi`,
  );
  L.push('if [ -z "$_cm_lf" ]; then for _cm_d in "/tmp/openclaw-$(id -u)" /tmp/openclaw; do');
  L.push(`  _cm_f=$(ls -1 "$_cm_d"/${DATED} 2>/dev/null | sort | tail -n 1); if [ -n "$_cm_f" ]; then _cm_lf=$_cm_f; break; fi`);
  L.push('done; fi');
  if (host.supervisor.kind === 'systemd-user') {
    // No file log to be found: the user journal of the unit has the gateway's stdout.
    const since = opts.resume ? `--since @${Math.floor(opts.resume.ms / 1000)}` : `-n ${n}`;
    L.push(
      `if [ -z "$_cm_lf" ]; then echo '${FOLLOW_MARK}journal'; XDG_RUNTIME_DIR="\${XDG_RUNTIME_DIR:-/run/user/$(id -u)}" exec journalctl --user ${shellQuote(`--unit=${host.supervisor.unit}`)} -f ${since} -o short-iso-precise --no-pager; fi`,
    );
  }
  L.push(`if [ -z "$_cm_lf" ]; then echo '${FOLLOW_MARK}nolog'; exit 3; fi`);
  // Where tail starts. Resuming, replay from the first line at or after the saved position (the file log's
  // UTC "date" field, 1 s early; lines seen already are skipped by hash), however many lines came while
  // disconnected; the follower drops nothing. Every dated line older: start at the end. First start, or a
  // file without dated lines: the last n lines.
  const since = opts.resume ? new Date(opts.resume.ms - 1000).toISOString().slice(0, 23) : '';
  L.push(`_cm_since=${shellQuote(since)}`);
  L.push(
    `_cm_start() { _cm_k=; if [ -n "$_cm_since" ]; then _cm_k=$(awk -v t="$_cm_since" '{ i = index($0, "\\"date\\":\\""); if (i > 0) { d = 1; if (substr($0, i + 8, 23) >= t) { print NR; f = 1; exit } } } END { if (!f && d) print NR + 1 }' "$1" 2>/dev/null); fi; if [ -n "$_cm_k" ]; then echo "+$_cm_k"; else echo ${n}; fi; }`,
  );
  L.push(`echo "${FOLLOW_MARK}logfile=$_cm_lf"`);
  L.push('_cm_dir=$(dirname "$_cm_lf")');
  // A fixed file name: plain tail -F (follows rotation by name).
  L.push(`case "$(basename "$_cm_lf")" in ${DATED}) ;; *) exec tail -n "$(_cm_start "$_cm_lf")" -F "$_cm_lf" ;; esac`);
  // Dated files roll at midnight: follow the newest one and switch when a newer one appears.
  L.push(`_cm_newest() { ls -1 "$_cm_dir"/${DATED} 2>/dev/null | sort | tail -n 1; }`);
  L.push('_cm_cur=$(_cm_newest); [ -n "$_cm_cur" ] || _cm_cur=$_cm_lf');
  L.push(`tail -n "$(_cm_start "$_cm_cur")" -F "$_cm_cur" & _cm_p=$!`);
  L.push(`while sleep ${Math.max(1, Math.round(opts.rollCheckSec))}; do`);
  L.push('  _cm_new=$(_cm_newest)');
  L.push('  if [ -n "$_cm_new" ] && [ "$_cm_new" != "$_cm_cur" ]; then');
  L.push(`    echo "${FOLLOW_MARK}logfile=$_cm_new"`);
  // Start on the new file first, then stop the old one, so no line of either is missed.
  L.push('    tail -n +1 -F "$_cm_new" & _cm_q=$!; sleep 1; kill $_cm_p 2>/dev/null; _cm_p=$_cm_q; _cm_cur=$_cm_new');
  L.push('  fi');
  L.push('  kill -0 $_cm_p 2>/dev/null || exit 4');
  L.push('done');
  return L.join('\n');
}

/**
 * Time of a raw log line (epoch ms) for the resume position: the file log's `time` field, or a
 * leading ISO stamp (gateway stdout, `docker logs --timestamps`, `journalctl -o short-iso-precise`).
 */
export function lineTime(line: string): number | undefined {
  if (line.charCodeAt(0) === 123 /* { */) {
    const i = line.lastIndexOf('"time":"');
    if (i < 0) return undefined;
    const e = line.indexOf('"', i + 8);
    const ms = parseTime(line.slice(i + 8, e));
    return Number.isFinite(ms) ? ms : undefined;
  }
  if (!/^\d{4}-\d\d-\d\dT/.test(line)) return undefined;
  const sp = line.indexOf(' ');
  const ms = parseTime(sp > 0 ? line.slice(0, sp) : line);
  return Number.isFinite(ms) ? ms : undefined;
}
