/**
 * Benchmark (issue 3): `parseLog` throughput on a 100 000-line gateway log built from the real
 * OpenClaw 2026.9.6 sample lines (src/standin/samples/*.jsonl and *.stdout.txt, repeated in
 * order), single-threaded. Context baseline: split('\n') + JSON.parse of the JSON lines of the same text.
 *
 * Run: npx tsx bench/log-parser.ts   (env BENCH_RUNS to change the number of timed passes)
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLog } from '../src/openclaw/log-parser.js';
import { atLeast, fmt, runIfMain, printHeader, reportFigure, summarize, type Figure } from './bench-kit.js';

const BENCH = 'log-parser';
const LINES = 100_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 25);
const TARGET_LINES_PER_S = 200_000;
const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/standin/samples');

/** The sample lines, file by file in name order, and the 100 000-line text made by repeating them. */
function buildLog(): { text: string; sourceLines: number; files: string[]; jsonShare: number; avgLen: number } {
  const files = readdirSync(FIXTURES)
    .filter((f) => f.startsWith('log-') && (f.endsWith('.jsonl') || f.endsWith('.stdout.txt')))
    .sort();
  const lines = files.flatMap((f) => readFileSync(path.join(FIXTURES, f), 'utf8').split('\n').filter((l) => l.length > 0));
  const out: string[] = new Array(LINES);
  for (let i = 0; i < LINES; i++) out[i] = lines[i % lines.length]!;
  const text = `${out.join('\n')}\n`;
  const json = out.filter((l) => l.charCodeAt(0) === 123).length;
  return { text, sourceLines: lines.length, files, jsonShare: json / LINES, avgLen: text.length / LINES };
}

/**
 * Time `fn(text)` RUNS times after a warm-up: wall ms and process CPU ms (user+system) per run.
 * CPU time is what one core spends even when other processes share the machine; it also counts
 * V8's GC helper threads, so it overstates one core's work slightly (the conservative side).
 */
function measure(fn: (text: string) => number, text: string, warmup: number): { ms: number[]; cpuMs: number[]; result: number } {
  let result = 0;
  for (let i = 0; i < warmup; i++) result = fn(text);
  const ms: number[] = [];
  const cpuMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    result = fn(text);
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuMs.push((c.user + c.system) / 1000);
  }
  return { ms, cpuMs, result };
}

/** The naive way: split into lines and JSON.parse every JSON line (text lines skipped). */
function splitJsonParse(text: string): number {
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.charCodeAt(0) !== 123) continue;
    const o = JSON.parse(line) as { time?: string };
    if (o.time) n++;
  }
  return n;
}

/** Run the benchmark; returns the headline figure. */
export async function run(): Promise<Figure[]> {
  printHeader(`log parser: parseLog on ${LINES.toLocaleString('en')} lines of real gateway log, one core`);
  const log = buildLog();
  console.log(
    `  built from ${log.sourceLines} real lines in ${log.files.length} files; ${(log.text.length / 1e6).toFixed(1)} MB, ` +
      `${Math.round(log.avgLen)} chars/line on average, ${(log.jsonShare * 100).toFixed(0)}% JSON (tslog) lines`,
  );
  const parse = measure((t) => parseLog(t).length, log.text, 5);
  const naive = measure(splitJsonParse, log.text, 3);
  const perS = (ms: number) => LINES / (ms / 1000);
  const sp = summarize(parse.ms);
  const sn = summarize(naive.ms);
  const row = (label: string, s: ReturnType<typeof summarize>) =>
    console.log(
      `  ${label.padEnd(44)} runs=${s.n}  median ${fmt(s.median)} ms = ${Math.round(perS(s.median)).toLocaleString('en')} lines/s` +
        `  (p95 run ${fmt(s.p95)} ms = ${Math.round(perS(s.p95)).toLocaleString('en')} lines/s, p99 run ${fmt(s.p99)} ms = ${Math.round(perS(s.p99)).toLocaleString('en')} lines/s)`,
    );
  const spc = summarize(parse.cpuMs);
  const snc = summarize(naive.cpuMs);
  console.log('  wall clock:');
  row(`parseLog → ${parse.result} events`, sp);
  row(`baseline split('\\n') + JSON.parse (${naive.result} objects)`, sn);
  console.log('  process CPU time (user+sys):');
  row(`parseLog`, spc);
  row(`baseline split('\\n') + JSON.parse`, snc);
  console.log(`  parseLog vs split + JSON.parse: ${(sn.median / sp.median).toFixed(2)}× the speed (wall), ${(snc.median / spc.median).toFixed(2)}× (CPU)`);
  const figures = [
    atLeast(BENCH, 'parseLog throughput, median run (wall)', perS(sp.median), TARGET_LINES_PER_S, '≥ 200 000 lines/s', 'lines/s'),
    atLeast(BENCH, 'parseLog throughput, median run (CPU time)', perS(spc.median), TARGET_LINES_PER_S, '≥ 200 000 lines/s', 'lines/s'),
    atLeast(BENCH, 'parseLog throughput, p99 run (wall)', perS(sp.p99), TARGET_LINES_PER_S, '≥ 200 000 lines/s', 'lines/s'),
  ];
  for (const f of figures) reportFigure(f);
  return figures;
}

runIfMain(import.meta.url, run);
