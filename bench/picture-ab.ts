/**
 * The bot's memory share of the incident picture, like for like (issue 14.9, fifth pass; bench/README.md).
 * The same workload runs in phases A (pictures off) and B (pictures on), interleaved A/B/A/B in one process:
 * every round, at a fixed cadence, the monitor's activity for the open incident (its save, and a read of the
 * host's open incidents) and the text alert rendered for Telegram and Discord; in B the round also makes the
 * alert's picture, and the phase starts the renderer's child (as the incident's first signal does) and closes
 * it at its end. Same rounds, same cadence, so the same duration unless a round overruns (printed); each
 * phase starts with a lead-in of a fifth more rounds of its own arm, not sampled, for the previous phase's
 * garbage and pages to settle. The bench runs this before its other picture rounds, whose leftovers would
 * otherwise sit in the first A phase. The bot's
 * extra RSS is then (max RSS over the B phases) − (max RSS over the A phases): both maxima sit at the top of
 * the V8 heap's saw-tooth (the bot's ambient garbage), which cancels, where "max over the picture rounds −
 * the RSS after the text rounds" (the older figure, still printed by the bench) includes that saw-tooth.
 *
 * With `--expose-gc` (only for that reading: the figure above is taken from runs without it, whose heap is
 * left alone), what the pictures retain after a full collection: the heap in use after a full GC following
 * each phase, and the slope over many pictures (a leak would grow it per picture).
 */
import { renderAlert } from '../src/alerts/render-incident.js';
import { renderTelegram } from '../src/chat/telegram/render.js';
import { renderReply } from '../src/chat/discord/render.js';
import { PictureSource } from '../src/alerts/picture-source.js';
import { PictureRenderer } from '../src/alerts/picture-renderer.js';
import type { IncidentStore } from '../src/state/incident-store.js';
import type { Incident } from '../src/domain/incident.js';
import type { PictureRef } from '../src/domain/types.js';
import type { KeySpace } from '../src/state/key-space.js';
import type { Redis } from 'ioredis';
import { fmt, sleep } from './bench-kit.js';

const mib = (b: number): number => b / 2 ** 20;
const gc = (): (() => void) | undefined => (globalThis as { gc?: () => void }).gc;
/** Heap in use after a full collection (only with --expose-gc), bytes. */
function heapAfterGc(): number {
  const collect = gc()!;
  collect();
  collect(); // a second pass: finalizers and weak callbacks of the first
  return process.memoryUsage().heapUsed;
}

export interface AbDeps {
  redis: Redis;
  keys: KeySpace;
  store: IncidentStore;
  inc: Incident;
  host: string;
  ref: PictureRef;
}

export interface AbResult {
  /** (max RSS over the B phases) − (max RSS over the A phases), MiB. */
  botExtraMiB: number;
  /** Per phase, in run order: its arm, its max RSS (MiB), its duration (ms), its rounds that overran the cadence. */
  phases: Array<{ arm: 'A' | 'B'; maxMiB: number; ms: number; overran: number }>;
  /** With --expose-gc only: heap in use after a full GC following the A phases and the B phases (MiB, means), and the slope over many pictures. */
  retained?: { afterA: number; afterB: number; perPictureBytes: number; pictures: number };
}

/**
 * Phases of `rounds` rounds each, one round every `periodMs`, in the order of `order` ("ABAB"). The RSS is
 * sampled every 5 ms (memoryUsage.rss(), no heap statistics) and its maximum kept per phase.
 */
export async function pictureAb(d: AbDeps, order: string, rounds: number, periodMs: number, slopePictures: number): Promise<AbResult> {
  const monitorAndText = async (): Promise<void> => {
    await d.store.save(d.host, 'bench', [{ incident: d.inc, done: false }], undefined);
    await d.store.loadOpen(d.host);
    const reply = renderAlert(d.inc, Date.now(), { muteLabel: '1h' });
    renderTelegram(reply);
    renderReply(reply);
  };
  const phases: AbResult['phases'] = [];
  const heapAfter: Record<'A' | 'B', number[]> = { A: [], B: [] };
  let phaseMax = 0;
  let sampling = false;
  const sampler = setInterval(() => sampling && (phaseMax = Math.max(phaseMax, process.memoryUsage.rss())), 5);
  try {
    for (const arm of order) {
      if (arm !== 'A' && arm !== 'B') throw new Error(`phase ${arm}: A or B`);
      const t0 = performance.now();
      let overran = 0;
      let renderer: PictureRenderer | undefined;
      let source: PictureSource | undefined;
      if (arm === 'B') {
        renderer = new PictureRenderer();
        const r = renderer;
        source = new PictureSource({ redis: d.redis, keys: d.keys, incidents: d.store, rasterize: (svg) => r.render(svg) });
        void renderer.warm(); // the incident's first signal
      }
      const lead = Math.ceil(rounds / 5);
      for (let k = 0; k < lead + rounds; k++) {
        // The first fifth of the rounds is a lead-in, not sampled: the previous phase's pages settle.
        if (k === lead) {
          phaseMax = process.memoryUsage.rss();
          sampling = true;
        }
        const due = t0 + (k + 1) * periodMs;
        await monitorAndText();
        if (renderer && source) {
          void renderer.warm(); // the monitor's tick while the incident is open
          await source.render(d.ref, Date.now());
        }
        if (k >= lead) phaseMax = Math.max(phaseMax, process.memoryUsage.rss());
        const left = due - performance.now();
        if (left > 0) await sleep(left);
        else overran++;
      }
      await renderer?.close(); // a minute after the incident closes, in the bot
      phaseMax = Math.max(phaseMax, process.memoryUsage.rss());
      sampling = false;
      phases.push({ arm, maxMiB: mib(phaseMax), ms: performance.now() - t0, overran });
      if (gc()) heapAfter[arm].push(heapAfterGc());
    }
  } finally {
    clearInterval(sampler);
  }
  const maxOf = (arm: 'A' | 'B'): number => Math.max(...phases.filter((p) => p.arm === arm).map((p) => p.maxMiB));
  const result: AbResult = { botExtraMiB: maxOf('B') - maxOf('A'), phases };
  if (gc()) result.retained = { ...(await slope(d, slopePictures)), afterA: mib(mean(heapAfter.A)), afterB: mib(mean(heapAfter.B)) };
  return result;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/**
 * With --expose-gc: `n` pictures after a warm-up of n/4, the heap after a full GC before and after them; the
 * difference per picture is what each picture leaves for good (0 when nothing grows).
 */
async function slope(d: AbDeps, n: number): Promise<{ perPictureBytes: number; pictures: number }> {
  const renderer = new PictureRenderer();
  const source = new PictureSource({ redis: d.redis, keys: d.keys, incidents: d.store, rasterize: (svg) => renderer.render(svg) });
  try {
    for (let k = 0; k < Math.ceil(n / 4); k++) await source.render(d.ref, Date.now());
    const h0 = heapAfterGc();
    for (let k = 0; k < n; k++) await source.render(d.ref, Date.now());
    const h1 = heapAfterGc();
    return { perPictureBytes: (h1 - h0) / n, pictures: n };
  } finally {
    await renderer.close();
  }
}

/** The A/B lines the bench prints. */
export function printAb(r: AbResult, rounds: number, periodMs: number): void {
  const ph = r.phases.map((p) => `${p.arm} ${p.maxMiB.toFixed(2)} MiB (${fmt(p.ms / 1000)} s${p.overran ? `, ${p.overran} rounds overran` : ''})`).join(', ');
  console.log(`  A/B, ${rounds} rounds a phase, one every ${periodMs} ms; max RSS per phase: ${ph}`);
  const a = r.phases.filter((p) => p.arm === 'A').map((p) => p.maxMiB);
  const b = r.phases.filter((p) => p.arm === 'B').map((p) => p.maxMiB);
  console.log(`  A/B: bot extra RSS = max(B) − max(A) = ${fmt(r.botExtraMiB)} MiB; the noise floor, A phases against each other: ${fmt(Math.max(...a) - Math.min(...a))} MiB; a bound with it, max(B) − min(A): ${fmt(Math.max(...b) - Math.min(...a))} MiB`);
  if (r.retained) {
    const t = r.retained;
    console.log(`  retained (--expose-gc): heap in use after a full GC, after the A phases ${fmt(t.afterA)} MiB, after the B phases ${fmt(t.afterB)} MiB (B − A ${fmt((t.afterB - t.afterA) * 1024)} KiB)`);
    console.log(`  retained per picture over ${t.pictures} pictures (heap after a full GC, before and after): ${fmt(t.perPictureBytes)} bytes`);
  } else {
    console.log('  retained after a full GC: not measured (run with --expose-gc for that reading only)');
  }
}
