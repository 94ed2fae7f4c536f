/**
 * The host part of the evidence pass: clock, listeners on the gateway port (as the user and via
 * `sudo -n`), memory (and the container's), kernel OOM lines, supervisor state.
 */
import type { HostConfig } from '../domain/host.js';
import { shellQuote } from '../util/shell-quote.js';
import { SED_REDACT_TOKENS, supervisorCmd } from './templates.js';

/** Lines of POSIX sh printing the host's sections. */
export function hostPartLines(host: HostConfig, container: string | undefined): string[] {
  const port = host.gateway.port;
  const docker = host.install === 'docker';
  const sup = host.supervisor;
  const hostPart: string[] = [];
  // The host: clock, listeners (as the user, and via sudo -n where the operator allowed it), memory,
  // kernel OOM lines, supervisor state.
  hostPart.push('_cm_s now; date -u +%Y-%m-%dT%H:%M:%SZ; _cm_e $?');
  const portFilter = shellQuote(`^State|:${port}[[:space:]]`);
  hostPart.push(`_cm_o=$(ss -tlnp 2>&1); _cm_rc=$?; _cm_s listeners; printf '%s\\n' "$_cm_o" | grep -E ${portFilter}; _cm_e $_cm_rc`);
  hostPart.push(
    `_cm_o=$(sudo -n ss -tlnp 2>&1); _cm_rc=$?; _cm_s listeners_sudo; if [ $_cm_rc -eq 0 ]; then printf '%s\\n' "$_cm_o" | grep -E ${portFilter}; else printf '%s\\n' "$_cm_o" | tail -n 1; fi; _cm_e $_cm_rc`,
  );
  hostPart.push('_cm_s memory; free -m 2>&1; _cm_e $?');
  if (docker && container) {
    hostPart.push(
      `_cm_s container_memory; _cm_to 20 docker stats --no-stream --format ${shellQuote('{{.Name}}\t{{.MemUsage}}\t{{.MemPerc}}')} -- ${shellQuote(container)} 2>&1; _cm_e $?`,
    );
  }
  // Kernel OOM kills: the journal first (timestamps); dmesg when the journal is missing or unreadable.
  // No -q: "No journal files were found/opened" must show up so the dmesg fallback kicks in.
  hostPart.push("_cm_o=$(journalctl -k --no-pager -o short-iso --since='2 hours ago' 2>&1); _cm_rc=$?");
  hostPart.push(
    'if [ $_cm_rc -ne 0 ] || printf \'%s\' "$_cm_o" | grep -q "No journal files"; then _cm_o=$(dmesg --time-format iso 2>&1 || dmesg 2>&1); _cm_rc=$?; fi',
  );
  hostPart.push(
    "_cm_s kernel_oom; if [ $_cm_rc -eq 0 ]; then printf '%s\\n' \"$_cm_o\" | grep -iE 'killed process|out of memory' | tail -n 50; else printf '%s\\n' \"$_cm_o\" | tail -n 2; fi; _cm_e $_cm_rc",
  );
  // Supervisor state (token values in ExecStart / container command are redacted on the host).
  if (sup.kind === 'systemd-user' || sup.kind === 'docker' || sup.status) {
    // `$( (` not `$((`: a commands-supervisor status is a subshell and must not parse as arithmetic.
    hostPart.push(`_cm_o=$( ${supervisorCmd(host, 'status')} 2>&1); _cm_rc=$?`);
    hostPart.push(`_cm_s service; printf '%s\\n' "$_cm_o" | ${SED_REDACT_TOKENS}; _cm_e $_cm_rc`);
  }
  return hostPart;
}
