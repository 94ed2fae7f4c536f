/**
 * The parser of the light probe's output: listeners (ss, or /proc/net/tcp{,6} with the owner the fast
 * path checked), the /healthz answer, the gateway's and the host's memory, the installed version.
 */
import type { Listener } from './evidence-types.js';
import { splitSections } from './evidence-sections.js';
import { HEALTHZ_BODY_BYTES } from './light-probe-script.js';
import { parseSs } from './parse-ss.js';

/** What ss and /proc call a Node >= 24 program that sets no process title. */
const NODE_MAIN_THREAD_NAME = 'MainThread';

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
