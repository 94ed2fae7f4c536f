/**
 * The light probe behind /status and every monitor probe: `ss -tlnp` on the gateway port, one HTTP
 * GET of the gateway's own `/healthz` under a hard deadline, and memory from /proc. On a real 2026.9.6
 * host this costs a few ms of CPU where `openclaw gateway status --json` costs ~4 s of CPU and ~300 MB.
 * Pure: builds the script from the inventory (every value quoted) and reads its output; no I/O.
 */
import type { HostConfig } from '../domain/host.js';
import { shellQuote } from '../util/shell-quote.js';
import type { Listener } from './evidence-types.js';
import { splitSections } from './evidence-sections.js';
import { isOpenClawProcess, parseSs } from './parse-ss.js';
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
  // openclaw bin belongs to. Tried without a fork first (next to the bin; npm's global prefix/lib layout;
  // node_modules/.bin), then next to the bin's real path (readlink -f). Native installs only.
  if (host.install === 'native') {
    L.push(
      // bash: the path from its command hash (no subshell); POSIX sh: `command -v` in a command substitution.
      `_cm_s version; _cm_v=1; _cm_nm=${shellPath(host.openclaw.bin)}; ` +
        (bash
          ? `_cm_b=; case "$_cm_nm" in */*) [ -x "$_cm_nm" ] && _cm_b=$_cm_nm ;; *) hash "$_cm_nm" 2>/dev/null && _cm_b=\${BASH_CMDS[$_cm_nm]} ;; esac; [ -n "$_cm_b" ] && `
          : `_cm_b=$(command -v "$_cm_nm" 2>/dev/null) && `) +
        `_cm_d=\${_cm_b%/*} && ` +
        `for _cm_j in "$_cm_d/package.json" "$_cm_d/../lib/node_modules/openclaw/package.json" "$_cm_d/../openclaw/package.json" R; do ` +
        `if [ "$_cm_j" = R ]; then _cm_r=$(readlink -f "$_cm_b" 2>/dev/null) || break; _cm_j=\${_cm_r%/*}/package.json; fi; [ -r "$_cm_j" ] || continue; _cm_n=; _cm_ver=; ` +
        `while IFS= read -r _cm_l; do case "$_cm_l" in *'"name": "openclaw"'*|*'"name":"openclaw"'*) _cm_n=1 ;; *'"version":'*) [ -n "$_cm_ver" ] || _cm_ver=$_cm_l ;; esac; [ -n "$_cm_n" ] && [ -n "$_cm_ver" ] && break; done < "$_cm_j"; ` +
        `if [ -n "$_cm_n" ] && [ -n "$_cm_ver" ]; then _cm_ver=\${_cm_ver#*'"version":'}; _cm_ver=\${_cm_ver#*'"'}; printf '%s\\n' "\${_cm_ver%%'"'*}"; _cm_v=0; break; fi; done; _cm_e $_cm_v`,
    );
  }
  return L.join('\n');
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

/** What the HTTP GET of /healthz came to. */
export type HealthzOutcome =
  /** An HTTP answer (any status code). */
  | 'answered'
  /** Nothing accepted the connection. */
  | 'refused'
  /** No answer within the deadline. */
  | 'timeout'
  /** The connection broke another way (reset, empty reply, TLS...). */
  | 'failed'
  /** No curl and no wget on the host. */
  | 'no_client';

/** Which HTTP client made the GET: bash's /dev/tcp (fast path), curl, wget, or none on the host. */
export type HealthzVia = 'bash' | 'curl' | 'wget' | 'none';

/** `0100007F:4965` (little-endian words, as /proc/net/tcp{,6} print them) → `127.0.0.1:18789`, `[::1]:18789`. */
export function decodeProcNetAddress(hex: string): string | undefined {
  const m = /^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(hex);
  if (!m) return undefined;
  const port = parseInt(m[2]!, 16);
  const words = m[1]!.match(/.{8}/g)!.map((w) => Buffer.from(w, 'hex').reverse());
  const bytes = Buffer.concat(words);
  if (bytes.length === 4) return `${[...bytes].join('.')}:${port}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  // ::ffff:a.b.c.d (a v4 peer on a v6 socket) as ss prints it.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `[::ffff:${[...bytes.subarray(12)].join('.')}]:${port}`;
  // Longest run of zero groups becomes '::' (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hx = groups.map((g) => g.toString(16));
  const text = best < 0 ? hx.join(':') : `${hx.slice(0, best).join(':')}::${hx.slice(best + bestLen).join(':')}`;
  return `[${text}]:${port}`;
}

/**
 * The fast path's `sockets` lines ("<hex addr:port> <inode> <uid>") with the `owner` lines ("<inode> <pid>
 * <fd> <comm>") into listeners; a socket whose owner was not checked yields a listener without pid, as ss shows one
 * it cannot see.
 */
export function parseProcNetListeners(sockets: string, owners: string, port: number): Listener[] {
  const byInode = new Map<string, { pid: number; fd: number; process: string }>();
  for (const line of owners.split('\n')) {
    const m = /^(\d+) (\d+) (\d+) (.+)$/.exec(line.trim());
    if (m) byInode.set(m[1]!, { pid: Number(m[2]), fd: Number(m[3]), process: m[4]! });
  }
  const out: Listener[] = [];
  for (const line of sockets.split('\n')) {
    const [hex, inode] = line.trim().split(/\s+/);
    if (!hex || !inode) continue;
    const address = decodeProcNetAddress(hex);
    if (!address || !address.endsWith(`:${port}`)) continue;
    const own = byInode.get(inode);
    out.push(own ? { address, port, process: own.process, pid: own.pid, fd: own.fd } : { address, port });
  }
  return out;
}

/** The parsed output of the light probe script. */
export interface LightProbeOutput {
  /** Listeners on the gateway port; null when ss did not run. */
  listeners: Listener[] | null;
  healthz: { via: HealthzVia; outcome: HealthzOutcome; code?: number; body: string; rc?: number };
  gatewayPid?: number;
  gatewayProcess?: string;
  gatewayRssMb?: number;
  gatewayPeakRssMb?: number;
  hostMemory?: { totalMb: number; availableMb: number; usedPercent: number };
  /** The installed OpenClaw version, from its package.json (native installs). */
  version?: string;
}

/** Parse the light probe's output (sections may be missing when the output was cut). */
export function parseLightProbe(stdout: string, port: number): LightProbeOutput {
  const sec = splitSections(stdout);
  const ls = sec.listeners;
  let listeners: Listener[] | null = null;
  // ss's view when it ran (it names owners the hint did not); else the kernel's table with the hinted owner.
  if (ls && ls.rc === 0) listeners = parseSs(ls.output, port);
  else if (sec.sockets && sec.sockets.rc === 0) listeners = parseProcNetListeners(sec.sockets.output, sec.owner?.output ?? '', port);

  const hz = sec.healthz?.output ?? '';
  const bodyAt = hz.indexOf('body:\n');
  const head = bodyAt >= 0 ? hz.slice(0, bodyAt) : hz;
  const body = bodyAt >= 0 ? hz.slice(bodyAt + 'body:\n'.length, bodyAt + 'body:\n'.length + HEALTHZ_BODY_BYTES) : '';
  const kv = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(head)?.[1]?.trim();
  const via = (kv('via') as HealthzVia | undefined) ?? 'none';
  const rcText = kv('rc');
  const rc = rcText && /^\d+$/.test(rcText) ? Number(rcText) : undefined;
  const codeText = kv('code');
  let code = codeText && /^\d{3}$/.test(codeText) && codeText !== '000' ? Number(codeText) : undefined;
  let outcome: HealthzOutcome;
  if (via === 'none') outcome = 'no_client';
  else if (via === 'curl' || via === 'bash') {
    // curl (and the bash GET, which reuses its codes): 0 = an answer (even a 404), 7 = refused,
    // 28 = no answer within the deadline, 124 / 137 = the outer deadline killed it.
    if (code !== undefined && rc === 0) outcome = 'answered';
    else if (rc === 7) outcome = 'refused';
    else if (rc === 28 || rc === 124 || rc === 137 || rc === undefined) outcome = 'timeout';
    else outcome = 'failed';
  } else {
    // wget says less: 0 = a 2xx answer, 8 = an HTTP error status, 4 = network failure (refused or timed out).
    if (rc === 0) {
      outcome = 'answered';
      code = 200;
    } else if (rc === 8) outcome = 'answered';
    else if (rc === 124 || rc === 137 || rc === undefined) outcome = 'timeout';
    else if (rc === 4) outcome = 'refused';
    else outcome = 'failed';
  }

  const out: LightProbeOutput = { listeners, healthz: { via, outcome, code, body, rc } };
  const gm = sec.gateway_memory;
  if (gm && gm.rc === 0) {
    const pid = /^pid=(\d+)/m.exec(gm.output)?.[1];
    if (pid) out.gatewayPid = Number(pid);
    const name = /^Name:\s*(\S+)/m.exec(gm.output)?.[1];
    const program = /^argv0=(.+)$/m.exec(gm.output)?.[1]?.split('/').pop()?.trim();
    // `MainThread` is Node 24's thread name, not the program: name the program it runs instead.
    const shown = name === NODE_MAIN_THREAD_NAME && program ? program : name;
    if (shown) out.gatewayProcess = shown;
    if (shown !== name && pid) for (const l of listeners ?? []) if (l.pid === Number(pid) && l.process === name) l.process = shown;
    const rss = /^VmRSS:\s*(\d+)\s*kB/m.exec(gm.output)?.[1];
    if (rss) out.gatewayRssMb = Math.round(Number(rss) / 102.4) / 10;
    const hwm = /^VmHWM:\s*(\d+)\s*kB/m.exec(gm.output)?.[1];
    if (hwm) out.gatewayPeakRssMb = Math.round(Number(hwm) / 102.4) / 10;
  }
  const hm = sec.host_memory;
  if (hm && hm.rc === 0) {
    const total = /^MemTotal:\s*(\d+)\s*kB/m.exec(hm.output)?.[1];
    const avail = /^MemAvailable:\s*(\d+)\s*kB/m.exec(hm.output)?.[1];
    if (total && avail && Number(total) > 0) {
      const t = Number(total) / 1024;
      const a = Number(avail) / 1024;
      out.hostMemory = { totalMb: Math.round(t), availableMb: Math.round(a), usedPercent: Math.round(((t - a) / t) * 1000) / 10 };
    }
  }
  const ver = sec.version;
  if (ver && ver.rc === 0) {
    const v = /^(\d{4}\.\d{1,2}\.\d{1,3}\S*)$/m.exec(ver.output)?.[1];
    if (v) out.version = v;
  }
  return out;
}

/** Is `body` what an OpenClaw gateway's /healthz sends (`{"ok":true,"status":"live"}` on 2026.9.6 and 2026.4.29)? */
export function isGatewayHealthBody(body: string): { gateway: boolean; live: boolean; status?: string } {
  let j: unknown;
  try {
    j = JSON.parse(body.trim());
  } catch {
    return { gateway: false, live: false };
  }
  if (!j || typeof j !== 'object' || Array.isArray(j)) return { gateway: false, live: false };
  const o = j as Record<string, unknown>;
  if (typeof o.ok !== 'boolean' || typeof o.status !== 'string') return { gateway: false, live: false };
  return { gateway: true, live: o.ok === true, status: o.status };
}

/** What the light probe concludes, or why the CLI must answer instead. */
export interface LightVerdict {
  /** Set when the light probe cannot tell: the CLI (`gateway status --json`) must run. */
  fallback?: string;
  probeOk: boolean;
  /** Short text for the chat, never a foreign program's HTTP body. */
  probeError?: string;
  /** Another program holds the gateway port. */
  portConflict?: boolean;
  /** "127.0.0.1:18789" when something listens on the port. */
  listening?: string;
  gatewayRssMb?: number;
  memoryUsedPct?: number;
}

/** A listener that is not the gateway: visible owner whose name is not OpenClaw's (docker-proxy counts as the gateway for docker installs). */
export function isForeignListener(host: HostConfig, l: Listener): boolean {
  if (!l.process) return false; // owner not visible: cannot tell
  if (isOpenClawProcess(l)) return false;
  if (host.install === 'docker' && /docker-proxy|rootlesskit|slirp4netns|containerd/i.test(l.process)) return false;
  return true;
}

/** "python3 (pid 26892)" */
/** What ss and /proc call a Node >= 24 program that sets no process title. */
const NODE_MAIN_THREAD_NAME = 'MainThread';

function ownerText(l: Listener): string {
  return `${l.process ?? 'an unknown process'}${l.pid ? ` (pid ${l.pid})` : ''}`;
}

/**
 * Decide from the light probe alone where it can; otherwise name why the CLI must run: no HTTP client,
 * an answer that is not the gateway's with no visible foreign owner (a proxy, another build), a refused
 * connection while something listens, a port ss cannot read. A foreign body is never copied.
 */
export function decideLightProbe(host: HostConfig, p: LightProbeOutput): LightVerdict {
  const port = host.gateway.port;
  const onPort = p.listeners ?? [];
  const foreign = onPort.find((l) => isForeignListener(host, l));
  const own = onPort.find((l) => !isForeignListener(host, l));
  const listening = (own ?? onPort[0])?.address;
  const mem: Pick<LightVerdict, 'gatewayRssMb' | 'memoryUsedPct'> = {};
  if (p.hostMemory) mem.memoryUsedPct = Math.round(p.hostMemory.usedPercent);
  // Memory of the process on the port, only when it is the gateway itself (docker-proxy is not).
  const gwListener = onPort.find((l) => l.pid !== undefined && l.pid === p.gatewayPid);
  if (p.gatewayRssMb !== undefined && gwListener && isOpenClawProcess(gwListener)) mem.gatewayRssMb = p.gatewayRssMb;
  const base = { listening, ...mem };
  const conflict = (what: string): LightVerdict => ({
    ...base,
    probeOk: false,
    portConflict: true,
    probeError: `port ${port} ${what}: it is held by ${ownerText(foreign!)}, not by the OpenClaw gateway`,
  });
  const hz = p.healthz;
  switch (hz.outcome) {
    case 'no_client':
      return { ...base, probeOk: false, fallback: 'no curl or wget on the host' };
    case 'answered': {
      const shape = hz.code !== undefined && hz.code >= 200 && hz.code < 300 ? isGatewayHealthBody(hz.body) : { gateway: false, live: false };
      if (shape.gateway) {
        if (shape.live) return { ...base, probeOk: true };
        return { ...base, probeOk: false, probeError: `gateway on port ${port} answered /healthz with status ${JSON.stringify(shape.status).slice(0, 40)}` };
      }
      const what = `answered HTTP ${hz.code ?? '(an error status)'} but not as an OpenClaw gateway`;
      if (foreign) return conflict(what);
      return { ...base, probeOk: false, fallback: `port ${port} ${what} on /healthz` };
    }
    case 'refused':
      if (p.listeners === null) return { ...base, probeOk: false, fallback: 'ss could not list the listeners' };
      if (onPort.length > 0) {
        return { ...base, probeOk: false, fallback: `127.0.0.1:${port} refused the connection while ${ownerText(foreign ?? onPort[0]!)} listens on ${onPort[0]!.address}` };
      }
      // A container may publish its port without a listener on the host that ss shows: ask the CLI in the container.
      if (host.install === 'docker') return { ...base, probeOk: false, fallback: `nothing answers on 127.0.0.1:${port} from the host` };
      return { ...base, probeOk: false, probeError: `nothing listens on port ${port} (connect ECONNREFUSED 127.0.0.1:${port})` };
    case 'timeout':
      if (foreign) return conflict(`did not answer GET /healthz within ${HEALTHZ_MAX_TIME_SEC} s`);
      return { ...base, probeOk: false, probeError: `port ${port} did not answer GET /healthz within ${HEALTHZ_MAX_TIME_SEC} s (a hung gateway or a stuck listener)` };
    case 'failed':
      if (foreign) return conflict('broke the HTTP connection');
      return { ...base, probeOk: false, fallback: `GET /healthz on port ${port} failed (${hz.via} exit ${hz.rc ?? '?'})` };
  }
}

/**
 * A probe error from the CLI as it may reach a chat: `gateway rejected websocket upgrade (HTTP 200):
 * <html…>` carries whatever a foreign program answered; it becomes one line naming the port instead.
 */
export function sanitizeCliProbeError(err: string | undefined, port: number): { text?: string; foreignHttp: boolean } {
  if (!err) return { foreignHttp: false };
  const m = /rejected websocket upgrade \(HTTP (\d{3})\)/i.exec(err);
  if (m) return { text: `port ${port} answered HTTP ${m[1]} but not as an OpenClaw gateway`, foreignHttp: true };
  const first = err.split('\n')[0]!.replace(/<[^>]*>?/g, ' ').replace(/\s+/g, ' ').trim();
  return { text: first.length > 200 ? `${first.slice(0, 199)}…` : first, foreignHttp: false };
}
