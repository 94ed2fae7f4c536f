/**
 * Small toolkit shared by the benchmarks: percentiles, interleaved rounds, printing, and one
 * machine-readable line per figure so bench/run-all.ts can build the summary table.
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { NODE_RUNTIME_FLAGS } from '../src/constants.js';
import { STANDIN_LATENCY_ENV } from '../src/standin/host-standin.js';

// Benchmarks show what users feel: the host stand-in replays the real CLI's measured wall times
// (`gateway status --json` 3.6 s, …) unless CLAWMEDIC_STANDIN_LATENCY says otherwise. The test suite
// leaves it at 0. A benchmark that opts out passes its own value and says why.
process.env[STANDIN_LATENCY_ENV] ??= '1';

/** Scale of the replayed real CLI latencies for this benchmark run (CLAWMEDIC_STANDIN_LATENCY, default 1). */
export function benchStandinLatency(): number {
  const v = Number(process.env[STANDIN_LATENCY_ENV]);
  return Number.isFinite(v) && v >= 0 ? v : 1;
}

/** Distribution of one series of samples (milliseconds unless said otherwise). */
export interface Summary {
  n: number;
  min: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** One headline figure of a benchmark: what was measured, its target and whether it met it. */
export interface Figure {
  bench: string;
  name: string;
  /** The measured value (e.g. a p99 in ms, or lines/s). */
  value: number;
  unit: string;
  /** The target in words, e.g. "≤ 1.2 × (raw ssh p99 + bare BullMQ p99) + reply write = 41.0 ms". */
  target: string;
  /** value / limit for "≤" targets, limit / value for "≥" targets: ≤ 1 passes. */
  ratio: number;
  pass: boolean;
}

/** Prefix of the JSON line each figure is also printed as (read by run-all.ts). */
export const FIGURE_LINE = '@@BENCH ';

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/** Summarize samples (nearest-rank percentiles, so p99 of 200 samples is the 198th value). */
export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    n: s.length,
    min: s[0] ?? Number.NaN,
    median: percentile(s, 0.5),
    p95: percentile(s, 0.95),
    p99: percentile(s, 0.99),
    max: s[s.length - 1] ?? Number.NaN,
    mean: s.length ? sum / s.length : Number.NaN,
  };
}

/** "12.3" style number with sensible precision for ms figures. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** Print one series as a table row: label, n, median, p95, p99, max. */
export function printSeries(label: string, s: Summary, unit = 'ms'): void {
  console.log(
    `  ${label.padEnd(48)} n=${String(s.n).padStart(4)}  median ${fmt(s.median).padStart(7)} ${unit}  p95 ${fmt(s.p95).padStart(7)} ${unit}  p99 ${fmt(s.p99).padStart(7)} ${unit}  max ${fmt(s.max).padStart(7)} ${unit}`,
  );
}

/** Print a figure for humans and as one JSON line for run-all.ts. */
export function reportFigure(f: Figure): void {
  console.log(`  => ${f.name}: ${fmt(f.value)} ${f.unit}; target ${f.target}; ratio ${f.ratio.toFixed(2)} → ${f.pass ? 'PASS' : 'FAIL'}`);
  console.log(`${FIGURE_LINE}${JSON.stringify(f)}`);
}

/** Target text: a formula gets its value in this run appended, a constant target stands alone. */
function targetOf(targetText: string, limit: number, unit: string): string {
  return targetText.includes('×') ? `${targetText} = ${fmt(limit)} ${unit}` : targetText;
}

/** A "value ≤ limit" figure. */
export function atMost(bench: string, name: string, value: number, limit: number, targetText: string, unit = 'ms'): Figure {
  const ratio = value / limit;
  return { bench, name, value, unit, target: targetOf(targetText, limit, unit), ratio, pass: ratio <= 1 };
}

/** A "value ≥ limit" figure (throughput). */
export function atLeast(bench: string, name: string, value: number, limit: number, targetText: string, unit: string): Figure {
  const ratio = limit / value;
  return { bench, name, value, unit, target: targetOf(targetText, limit, unit), ratio, pass: ratio <= 1 };
}

/** Run `fn` and return its wall time in ms (performance.now). */
export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * Run the arms in interleaved rounds (arm A, arm B, … then again) so a slow phase of the machine
 * hits every arm alike; `warmup` rounds are run first and discarded. Each arm returns its sample in ms.
 */
export async function interleaved(
  rounds: number,
  warmup: number,
  arms: Record<string, () => Promise<number>>,
  opts: { pauseMs?: number; deadlineMs?: number } = {},
): Promise<Record<string, number[]>> {
  const names = Object.keys(arms);
  const out: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const stopAt = opts.deadlineMs ? performance.now() + opts.deadlineMs : Infinity;
  for (let r = 0; r < warmup + rounds; r++) {
    for (const n of names) {
      const ms = await arms[n]!();
      if (r >= warmup) out[n]!.push(ms);
      if (opts.pauseMs) await sleep(opts.pauseMs);
    }
    if (performance.now() > stopAt && r >= warmup + 20 && r < warmup + rounds - 1) {
      console.log(`  (time budget reached after ${r + 1 - warmup} measured rounds)`);
      break;
    }
  }
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True when the module at `metaUrl` is the script node was started with (run directly, not imported). */
/** Run `run` when this file is the entry point (`npx tsx bench/<file>.ts`), exiting 1 on failure. */
export function runIfMain(metaUrl: string, run: () => Promise<unknown>): void {
  if (!isMain(metaUrl)) return;
  if (rerunWithRuntimeFlags()) return;
  run().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

export function isMain(metaUrl: string): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return metaUrl === pathToFileURL(arg).href || metaUrl === pathToFileURL(`${arg}.ts`).href;
  } catch {
    return false;
  }
}

/**
 * Benchmarks measure clawmedic as it is shipped, so they run with its Node flags (NODE_RUNTIME_FLAGS).
 * Started without them (`npx tsx bench/x.ts`), this runs the same script again with them, waits for
 * it, exits with its code and returns true; with them it returns false and the caller goes on.
 */
export function rerunWithRuntimeFlags(): boolean {
  const missing = NODE_RUNTIME_FLAGS.filter((f) => !process.execArgv.includes(f));
  if (missing.length === 0) return false;
  const child = spawnSync(process.execPath, [...missing, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

/** Header every benchmark prints: what runs where. */
export function printHeader(title: string): void {
  console.log(`\n# ${title}`);
  console.log(`  node ${process.version} ${NODE_RUNTIME_FLAGS.join(' ')}, ${process.platform}/${process.arch}, started ${new Date().toISOString()}`);
}
