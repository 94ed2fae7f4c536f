/**
 * Parser for `ss -tlnp` output: listening TCP sockets with the owning process when visible.
 * Used to tell the gateway (`openclaw-gatewa` on 2026.9, `openclaw` on 2026.4) from a foreign port owner.
 */
import type { Listener } from './evidence-types.js';

const USERS_RE = /\("([^"]*)",pid=(\d+)(?:,fd=(\d+))?/g;

/**
 * Parse `ss -tlnp` lines into listeners; with `port`, keep only sockets on that port.
 * Lines without a `users:` column (owner not visible to this user) still yield a listener without pid.
 */
export function parseSs(text: string, port?: number): Listener[] {
  const out: Listener[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (!line.startsWith('LISTEN')) continue;
    const cols = line.split(/\s+/);
    // State Recv-Q Send-Q Local:Port Peer:Port [users:(...)]
    const local = cols[3];
    if (!local) continue;
    const colon = local.lastIndexOf(':');
    if (colon < 0) continue;
    const p = Number(local.slice(colon + 1));
    if (!Number.isInteger(p)) continue;
    if (port !== undefined && p !== port) continue;
    const address = local;
    const procCol = cols.slice(5).join(' ');
    USERS_RE.lastIndex = 0;
    const m = USERS_RE.exec(procCol);
    if (m) {
      out.push(m[3] ? { address, port: p, process: m[1], pid: Number(m[2]), fd: Number(m[3]) } : { address, port: p, process: m[1], pid: Number(m[2]) });
    } else {
      out.push({ address, port: p });
    }
  }
  return out;
}

/** Does a listener's process look like an OpenClaw gateway (`openclaw-gatewa`, `openclaw`, or node running it)? */
export function isOpenClawProcess(l: Pick<Listener, 'process' | 'commandLine'>): boolean {
  const name = `${l.process ?? ''} ${l.commandLine ?? ''}`.toLowerCase();
  return name.includes('openclaw');
}
