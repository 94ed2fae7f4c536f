/**
 * The log sections of the evidence pass: the gateway's file log (found from the path its status
 * named, else today's default paths), docker logs, the user journal. Keyword-filtered on the host
 * (LOG_FILTER_ERE) and capped in lines and bytes, newest kept.
 */
import type { HostConfig } from '../domain/host.js';
import { shellQuote } from '../util/shell-quote.js';

/** Lines of log shipped back per source (after the keyword filter). */
const LOG_LINES = 2000;
/**
 * Bytes of log shipped back per source, newest kept (file-log JSON lines are ~1-2 KB each): together
 * they stay under EVIDENCE_MAX_OUTPUT_BYTES, so the output cap never cuts the newest lines.
 */
const LOG_BYTES = { file: 1_200_000, other: 400_000 } as const;

/**
 * The log sections: `gw` gets the file log (it needs `_cm_log` from the gateway's answer), `journal`
 * the docker logs and the user journal (a part of their own, run beside the others).
 */
export function logLines(host: HostConfig, container: string | undefined): { gw: string[]; journal: string[] } {
  const docker = host.install === 'docker';
  const sup = host.supervisor;
  const gw: string[] = [];
  const journal: string[] = [];
  if (docker && container) {
    const c = shellQuote(container);
    gw.push(
      `_cm_s log_file; _cm_to 30 docker exec -- ${c} sh -c 'f=$1; [ -n "$f" ] || f=/tmp/openclaw/openclaw-$(date +%F).log; [ -r "$f" ] || f=/tmp/openclaw-$(id -u)/openclaw-$(date +%F).log; [ -r "$f" ] || { echo "no readable log file"; exit 2; }; echo "# $f"; tail -n 20000 "$f" | grep -E "$2" | tail -n ${LOG_LINES} | tail -c ${LOG_BYTES.file}; exit 0' sh "$_cm_log" "$_cm_filter" 2>&1; _cm_e $?`,
    );
    journal.push(
      `_cm_s log_docker; _cm_to 30 docker logs --tail 20000 -- ${c} 2>&1 | grep -E "$_cm_filter" | tail -n ${LOG_LINES} | tail -c ${LOG_BYTES.other}; _cm_e 0`,
    );
  } else {
    gw.push('if [ -z "$_cm_log" ] || [ ! -r "$_cm_log" ]; then');
    gw.push('  for _cm_f in "/tmp/openclaw/openclaw-$(date +%F).log" "/tmp/openclaw-$(id -u)/openclaw-$(date +%F).log"; do');
    gw.push('    if [ -r "$_cm_f" ]; then _cm_log=$_cm_f; break; fi');
    gw.push('  done');
    gw.push('fi');
    gw.push(
      `_cm_s log_file; if [ -n "$_cm_log" ] && [ -r "$_cm_log" ]; then printf '# %s\\n' "$_cm_log"; tail -n 20000 "$_cm_log" | grep -E "$_cm_filter" | tail -n ${LOG_LINES} | tail -c ${LOG_BYTES.file}; _cm_e 0; else echo "no readable log file (\${_cm_log:-none found})"; _cm_e 2; fi`,
    );
  }
  if (sup.kind === 'systemd-user') {
    journal.push(
      `_cm_s log_journal; XDG_RUNTIME_DIR="\${XDG_RUNTIME_DIR:-/run/user/$(id -u)}" _cm_to 30 journalctl --user ${shellQuote(`--unit=${sup.unit}`)} --since='2 hours ago' -o short-iso --no-pager -q 2>&1 | grep -E "$_cm_filter" | tail -n ${LOG_LINES} | tail -c ${LOG_BYTES.other}; _cm_e 0`,
    );
  }
  return { gw, journal };
}
