/**
 * Parsers for memory figures: `free -m` on the host and `docker stats --no-stream` for a container.
 * Memory pressure (> 80 %) is a documented cause of gateway crashes on small servers.
 */
import type { MemoryInfo } from './evidence-types.js';

/** Parse `free -m` (procps) output; null when the Mem: line is missing. */
export function parseFree(text: string): MemoryInfo | null {
  let header: string[] = [];
  let mem: number[] | null = null;
  let swap: number[] | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('total')) header = line.split(/\s+/);
    else if (line.startsWith('Mem:')) mem = line.slice(4).trim().split(/\s+/).map(Number);
    else if (line.startsWith('Swap:')) swap = line.slice(5).trim().split(/\s+/).map(Number);
  }
  if (!mem || mem.length < 3 || !Number.isFinite(mem[0])) return null;
  const col = (name: string, fallback: number): number | undefined => {
    const i = header.indexOf(name);
    const v = mem![i >= 0 ? i : fallback];
    return v !== undefined && Number.isFinite(v) ? v : undefined;
  };
  const totalMb = col('total', 0)!;
  const usedMb = col('used', 1);
  // Older procps without "available": free + buff/cache is the closest equivalent.
  let availableMb = header.includes('available') ? col('available', 5) : undefined;
  if (availableMb === undefined) {
    const free = col('free', 2) ?? 0;
    const cache = col('buff/cache', 4) ?? 0;
    availableMb = free + cache;
  }
  const usedPercent = totalMb > 0 ? round1(((totalMb - availableMb) / totalMb) * 100) : 0;
  const info: MemoryInfo = { source: 'free', totalMb, usedMb, availableMb, usedPercent };
  if (swap && Number.isFinite(swap[0])) {
    info.swapTotalMb = swap[0];
    info.swapUsedMb = swap[1];
  }
  return info;
}

const UNIT_MB: Record<string, number> = { b: 1 / 1048576, kib: 1 / 1024, kb: 1 / 1000, mib: 1, mb: 1, gib: 1024, gb: 1000, tib: 1048576 };

function toMb(s: string): number | undefined {
  const m = /^([\d.]+)\s*([a-z]+)$/i.exec(s.trim());
  if (!m) return undefined;
  const f = UNIT_MB[m[2]!.toLowerCase()];
  return f === undefined ? undefined : round1(Number(m[1]) * f);
}

/**
 * Parse one line of `docker stats --no-stream --format '{{.Name}}\t{{.MemUsage}}\t{{.MemPerc}}'`
 * (e.g. `openclaw\t612.3MiB / 1.906GiB\t31.37%`); null when nothing parses.
 */
export function parseDockerStats(text: string): MemoryInfo | null {
  for (const raw of text.split('\n')) {
    const parts = raw.split('\t');
    if (parts.length < 3) continue;
    const perc = Number(parts[2]!.trim().replace('%', ''));
    if (!Number.isFinite(perc)) continue;
    const [used, total] = parts[1]!.split('/').map((x) => toMb(x));
    return { source: 'docker-stats', usedMb: used, totalMb: total, usedPercent: round1(perc) };
  }
  return null;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
