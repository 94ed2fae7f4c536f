/**
 * `npm run bench`: runs every benchmark in its own node process (so one's sshd, Redis connections,
 * JIT state and GC never colour the next), streams their output, and ends with a markdown table of
 * the headline figures for bench/README.md. A missed target is a result, not an error; a crash is.
 *
 * Run: npm run bench   or   npx tsx bench/run-all.ts [name ...]   (e.g. `log-parser diagnose-pass`)
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_RUNTIME_FLAGS } from '../src/constants.js';
import { FIGURE_LINE, fmt, type Figure } from './bench-kit.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** In the order they are listed in bench/README.md. */
const BENCHES = ['status-pipeline', 'status-probe', 'diagnose-pass', 'real-host', 'log-parser', 'incident-picture', 'telegram-status', 'discord-interactions', 'busy-group', 'monitor-alert-latency', 'monitor-fleet'];

/** Run one bench file in a child node (tsx loader); resolves with its figures and exit code. */
function runOne(name: string): Promise<{ figures: Figure[]; code: number; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    // With clawmedic's own Node flags: a benchmark measures the program as it is shipped.
    const child = spawn(process.execPath, [...NODE_RUNTIME_FLAGS, '--import', 'tsx', path.join(HERE, `${name}.ts`)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: process.env,
    });
    const figures: Figure[] = [];
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.startsWith(FIGURE_LINE)) figures.push(JSON.parse(line.slice(FIGURE_LINE.length)) as Figure);
        else process.stdout.write(`${line}\n`);
      }
    });
    child.on('close', (code) => resolve({ figures, code: code ?? 1, seconds: (performance.now() - started) / 1000 }));
  });
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !BENCHES.includes(w));
  if (unknown.length) throw new Error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${BENCHES.join(', ')})`);
  const list = wanted.length ? wanted : BENCHES;
  console.log(`clawmedic benchmarks: ${list.join(', ')}`);
  console.log(`machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const all: Figure[] = [];
  const failed: string[] = [];
  for (const name of list) {
    const r = await runOne(name);
    console.log(`  (${name}: ${r.seconds.toFixed(1)} s, exit ${r.code})`);
    if (r.code !== 0) failed.push(name);
    all.push(...r.figures);
  }
  console.log('\n## Summary (markdown, for bench/README.md)\n');
  console.log('| benchmark | figure | measured | target | ratio | result |');
  console.log('|---|---|---|---|---|---|');
  for (const f of all) {
    const value = f.unit === 'lines/s' ? `${Math.round(f.value).toLocaleString('en')} ${f.unit}` : `${fmt(f.value)} ${f.unit}`;
    console.log(`| ${f.bench} | ${f.name} | ${value} | ${f.target} | ${f.ratio.toFixed(2)} | ${f.pass ? 'pass' : '**FAIL**'} |`);
  }
  if (failed.length) {
    console.error(`\nbenchmark(s) that crashed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
