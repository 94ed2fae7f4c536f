/**
 * Benchmark (issue 14.9): making the incident picture as the bot does it — one HGETALL of the host's 3 h
 * series from Redis, the incident, the SVG, and the PNG from the renderer's child process — measured in and
 * against the process that hosts the bot. The renderer is warmed when a picture becomes foreseeable (the
 * monitor: at an incident's first signal, and on every tick while it is open; a diagnose: when it starts),
 * and the process that queues the picture makes it ahead; the sender then finds it in Redis. Arms, rounds
 * interleaved in one run:
 *   - text: rendering the text alert of the same incident for Telegram and Discord (the baseline);
 *   - warm: the alert's picture, the renderer warmed since the incident's first signal (warm() before each
 *     round, as the monitor's tick does);
 *   - start: the renderer's start-up alone (warm() until the child says it is ready): paid once per
 *     incident, at its first signal, off the picture's path;
 *   - burst: the first signal and the alert in one log read: warm() and the picture at once, so the picture
 *     waits for the start-up (the worst case of this design, and every picture's case before it);
 *   - sent: what the sending process does when the picture was made ahead: the PNG from Redis.
 * Figures: wall p99 and median; CPU per picture of the bot's process plus the child's (the machine pays
 * both); the bot's extra RSS like for like (picture-ab.ts, run first: the same monitor and text-alert
 * workload with pictures off and on, phases A/B/A/B, max RSS with − max RSS without; resvg must not even
 * load in the bot); printed for comparison, the older measure (max over all picture rounds, sampled every
 * 5 ms, − the RSS after the text rounds), which includes the V8 heap's saw-tooth; the renderer child's own memory from /proc/<pid>/smaps (its private pages plus
 * the resident pages of files only it maps, i.e. resvg's module: see childMemory; most of its RSS is Node's
 * binary, shared with the bot's) between pictures, and at its peak during a render (20 more pictures after the
 * timed rounds with its smaps_rollup read every ms); the two memory figures add the bot's extra RSS to each
 * (BENCH_PEAK_ROUNDS; the A/B share); how late a 5 ms timer
 * fires in the bot while pictures are made (a fresh histogram per picture: a re-enabled one counts the gap
 * since it was disabled). For context, printed after the figures: the old way (resvg's renderAsync in the
 * bot's own process) in rounds interleaved with the running child and the text alert (this loads resvg
 * here, hence after the figures).
 *
 * Run: npx tsx bench/incident-picture.ts   (BENCH_ROUNDS, default 60; BENCH_AB_ROUNDS, default 150)
 * What pictures retain after a full GC (that reading only; its other figures are not the bench's):
 *      npx tsx --expose-gc bench/incident-picture.ts
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { renderAlert } from '../src/alerts/render-incident.js';
import { renderTelegram } from '../src/chat/telegram/render.js';
import { renderReply } from '../src/chat/discord/render.js';
import { IncidentStore } from '../src/state/incident-store.js';
import { newIncident, applySignal, policyFromConfig } from '../src/monitor/incident-machine.js';
import { minuteOf, SERIES_KEEP_MINUTES, SERIES_LUA } from '../src/state/host-series.js';
import { atMost, fmt, interleaved, printHeader, printSeries, reportFigure, runIfMain, summarize, type Figure } from './bench-kit.js';
import { KeySpace } from '../src/state/key-space.js';
import { pictureAb, printAb } from './picture-ab.js';

const BENCH = 'incident-picture';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 60);
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const BUDGET_MS = 150;
const BUDGET_RSS_MIB = 20;
/** Pictures made after the timed rounds while the child's memory is read every millisecond (its peak). */
const PEAK_ROUNDS = Number(process.env.BENCH_PEAK_ROUNDS ?? 20);
/** The bot's share, like for like (picture-ab.ts): phases in this order, rounds a phase, ms a round. */
const AB_ORDER = process.env.BENCH_AB_ORDER ?? 'ABAB';
const AB_ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 150);
const AB_PERIOD_MS = Number(process.env.BENCH_AB_PERIOD_MS ?? 100);
/** With --expose-gc only: pictures over which what each one leaves after a full GC is measured. */
const AB_SLOPE_PICTURES = Number(process.env.BENCH_AB_SLOPE_PICTURES ?? 400);
const HOST = 'prod';

const mib = (b: number): number => b / 2 ** 20;

/** Three hours of a bad afternoon: a stale tab looping, a rate-limit burst, memory climbing, a restart, a fix. */
async function seed(redis: Redis, keys: KeySpace, now: number): Promise<void> {
  const m = minuteOf(now);
  const i: Record<string, number> = {};
  const s: Record<string, string> = {};
  for (let k = 0; k < 180; k++) {
    const mm = m - 179 + k;
    if (k > 90) i[`${mm}:tok`] = 4 + (k % 5);
    if (k > 120 && k < 140) i[`${mm}:rate`] = 2 + (k % 3);
    if (k % 17 === 0) i[`${mm}:orig`] = 1;
    s[`${mm}:mem`] = String(40 + k / 6);
    s[`${mm}:rss`] = String(280 + k);
  }
  i[`${m - 60}:rst`] = 1;
  i[`${m - 20}:fix`] = 1;
  await redis.eval(`${SERIES_LUA}\nseries_write(KEYS[1], ARGV[1])\nreturn 1`, 1, keys.series(HOST), JSON.stringify({ m, k: SERIES_KEEP_MINUTES, i, s }));
}

/** The files a process maps (Linux): for this one, Node's binary, libc and the rest the bot shares with the child. */
function mappedFiles(pid: number | 'self'): Set<string> {
  try {
    const files = readFileSync(`/proc/${pid}/maps`, 'utf8')
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[5])
      .filter((f): f is string => !!f && f.startsWith('/'));
    return new Set(files);
  } catch {
    return new Set();
  }
}

/**
 * The child's memory from /proc/<pid>/smaps (Linux), MiB; undefined elsewhere or once it is gone. `own` is
 * what the child costs the machine: its private pages (Private_Clean + Private_Dirty) plus every resident
 * page of the files the bot's process does not map (resvg's native module). Those pages are private in
 * production, where only the child maps them; here another process that loads resvg (a test run) would
 * make them look shared, and the private figure alone would then flatter the child by about 3 MiB.
 * `parts` splits `own` by mapping (anonymous memory, [heap], each file's basename).
 */
function childMemory(pid: number | undefined, botFiles: Set<string>): { rss: number; pss: number; priv: number; own: number; parts: Record<string, number> } | undefined {
  if (!pid) return undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = { rss: 0, pss: 0, priv: 0, own: 0 };
  const parts: Record<string, number> = {};
  let name = '';
  let m: Record<string, number> = {};
  const flush = (): void => {
    if (!name) return;
    const priv = (m.Private_Clean ?? 0) + (m.Private_Dirty ?? 0);
    const childOnly = name.startsWith('/') && !botFiles.has(name);
    const own = childOnly ? (m.Rss ?? 0) : priv;
    kib.rss += m.Rss ?? 0;
    kib.pss += m.Pss ?? 0;
    kib.priv += priv;
    kib.own += own;
    const part = name.startsWith('/') ? `${name.slice(name.lastIndexOf('/') + 1)}${childOnly ? ' (only the child maps it)' : ''}` : name;
    parts[part] = (parts[part] ?? 0) + own / 1024;
  };
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      flush();
      name = head[1] || '[anonymous]';
      m = {};
      continue;
    }
    const field = /^(\w+):\s+(\d+) kB/.exec(line);
    if (field) m[field[1]!] = Number(field[2]);
  }
  flush();
  return { rss: kib.rss / 1024, pss: kib.pss / 1024, priv: kib.priv / 1024, own: kib.own / 1024, parts };
}

/** The child's private memory (Private_Clean + Private_Dirty from smaps_rollup, cheap enough to read every ms), MiB. */
function childPrivate(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return (Number(/Private_Clean:\s+(\d+)/.exec(t)?.[1] ?? 0) + Number(/Private_Dirty:\s+(\d+)/.exec(t)?.[1] ?? 0)) / 1024;
  } catch {
    return 0;
  }
}

export async function run(): Promise<Figure[]> {
  printHeader('incident picture: series in Redis → SVG → PNG, against rendering the text alert');
  console.log(`  load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const keys = new KeySpace(`bench-picture-${process.pid}`);
  const redis = new Redis(REDIS_URL);
  const figures: Figure[] = [];
  try {
    const now = Date.now();
    await seed(redis, keys, now);
    const store = new IncidentStore(redis, keys);
    const policy = policyFromConfig({ fireAfterEvents: 3, fireWindowSec: 60, probeFailuresToFire: 2, resolveAfterSec: 300, reminderIntervalSec: 3600 });
    const inc = newIncident(HOST, 'token_mismatch', 'log', now - 80 * 60_000);
    for (let k = 0; k < 6; k++) {
      applySignal(inc, { family: 'token_mismatch', cause: 'token_mismatch', at: now - k * 1000, clientKey: `c${k % 2}`, dedupe: k + 1, evidence: `03:1${k}:00 code=4008 (connect failed) ← gateway: token_mismatch; client webchat, origin http://localhost:18789` }, policy, now);
    }
    await store.save(HOST, 'bench', [{ incident: inc, done: false }], undefined);

    // Baseline arm alone first (warm), then RSS before anything of the picture is loaded.
    const textAlert = async (): Promise<number> => {
      const t0 = performance.now();
      const reply = renderAlert(inc, Date.now(), { muteLabel: '1h' });
      renderTelegram(reply);
      renderReply(reply);
      return performance.now() - t0;
    };
    for (let k = 0; k < 50; k++) await textAlert();
    global.gc?.();
    const rssBefore = process.memoryUsage.rss();

    const { PictureSource } = await import('../src/alerts/picture-source.js');
    const { PictureRenderer } = await import('../src/alerts/picture-renderer.js');
    const { hostPicture } = await import('../src/alerts/picture-ref.js');
    type Renderer = InstanceType<typeof PictureRenderer>;
    type Source = InstanceType<typeof PictureSource>;
    const ref = hostPicture(HOST, inc.id);
    const sourceWith = (r: Renderer) => new PictureSource({ redis, keys, incidents: store, rasterize: (svg) => r.render(svg) });
    const warmRenderer = new PictureRenderer();
    const warmSource = sourceWith(warmRenderer);

    // The bot's share like for like, first (before the rounds below leave their garbage and pages in the
    // process): the same workload with pictures off (A) and on (B), interleaved (picture-ab.ts).
    const ab = await pictureAb({ redis, keys, store, inc, host: HOST, ref }, AB_ORDER, AB_ROUNDS, AB_PERIOD_MS, AB_SLOPE_PICTURES);
    let rssMax = rssBefore;
    // memoryUsage.rss(): the RSS alone, without the heap statistics (and their garbage) of memoryUsage().
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage.rss())), 5);
    let bytes = 0;
    let childPeakKib = 0;
    const cpu: Record<'warm' | 'burst' | 'start', number[]> = { warm: [], burst: [], start: [] };
    /** The bot's own CPU per warm picture: all the work its event loop does for one (the rest is the child's). */
    const botCpuWarm: number[] = [];
    const lagMax: Record<'warm' | 'burst' | 'start', number[]> = { warm: [], burst: [], start: [] };
    const spawnSyncMs: number[] = [];
    let warmCpuBefore = 0;
    /** A fresh event-loop delay histogram around `fn` (see the header on why fresh). */
    const withLag = async <T>(arm: 'warm' | 'burst' | 'start', fn: () => Promise<T>): Promise<T> => {
      const lag = monitorEventLoopDelay({ resolution: 5 });
      lag.enable();
      try {
        return await fn();
      } finally {
        lag.disable();
        lagMax[arm].push(lag.count > 0 ? lag.max / 1e6 : 0);
      }
    };
    /** One picture through `source`; the child's CPU: what it spent on this picture (burst: its whole life). */
    const picture = async (arm: 'warm' | 'burst', source: Source, renderer: Renderer): Promise<number> => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const png = await withLag(arm, async () => {
        if (arm === 'burst') void renderer.warm(); // the first signal, in the same read as the alert
        return source.render(ref, Date.now());
      });
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      const st = renderer.lastStats!;
      const childCpu = arm === 'burst' ? st.childCpuMs : st.childCpuMs - warmCpuBefore;
      if (arm === 'warm') warmCpuBefore = st.childCpuMs;
      cpu[arm].push((c.user + c.system) / 1000 + childCpu);
      if (arm === 'warm') botCpuWarm.push((c.user + c.system) / 1000);
      childPeakKib = Math.max(childPeakKib, st.childMaxRssKib);
      bytes = png.length;
      rssMax = Math.max(rssMax, process.memoryUsage.rss());
      return ms;
    };
    await warmRenderer.warm();
    await warmSource.render(ref, Date.now()); // the warm arm's child is running from here on
    warmCpuBefore = warmRenderer.lastStats!.childCpuMs;
    // The sender's side: the picture was made ahead under the reference's minute.
    const madeAhead = hostPicture(HOST, inc.id, Date.now());
    const senderSource = new PictureSource({ redis, keys, incidents: store, rasterize: (svg) => warmRenderer.render(svg) });
    await senderSource.prepare(madeAhead);

    const out = await interleaved(ROUNDS, 5, {
      text: textAlert,
      warm: () => {
        void warmRenderer.warm(); // the monitor's tick while the incident is open
        return picture('warm', warmSource, warmRenderer);
      },
      start: async () => {
        const r = new PictureRenderer();
        try {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          const st = await withLag('start', () => {
            const ready = r.warm();
            spawnSyncMs.push(performance.now() - t0); // spawn() is synchronous in the bot
            return ready;
          });
          const ms = performance.now() - t0;
          const c = process.cpuUsage(c0);
          cpu.start.push((c.user + c.system) / 1000 + (st?.childCpuMs ?? Number.NaN));
          return ms;
        } finally {
          await r.close(); // in the bot the child exits a minute after the incident closes
        }
      },
      burst: async () => {
        const r = new PictureRenderer();
        try {
          return await picture('burst', sourceWith(r), r);
        } finally {
          await r.close();
        }
      },
      sent: async () => {
        const t0 = performance.now();
        const png = await senderSource.png(madeAhead);
        if (!png) throw new Error('the picture made ahead was not found');
        return performance.now() - t0;
      },
    });
    clearInterval(sampler);
    // The child's peak during a render, in pictures of their own after the timed rounds: reading its
    // smaps_rollup every millisecond would weigh on the bot's event loop, whose figures are above, and the
    // garbage of those reads on the bot's RSS (hence its sampler stopped first). Same renderer, same picture.
    const botFiles = mappedFiles('self');
    let childPeakPriv = childPrivate(warmRenderer.pid);
    const peakSampler = setInterval(() => (childPeakPriv = Math.max(childPeakPriv, childPrivate(warmRenderer.pid))), 1);
    for (let k = 0; k < PEAK_ROUNDS; k++) {
      await warmSource.render(ref, Date.now());
      childPeakPriv = Math.max(childPeakPriv, childPrivate(warmRenderer.pid));
      await new Promise((r) => setTimeout(r, 20));
    }
    clearInterval(peakSampler);
    // Steady: between pictures, after the child has freed the last one (its finalizers run on the next turn).
    await new Promise((r) => setTimeout(r, 300));
    const childMem = childMemory(warmRenderer.pid, botFiles);
    await warmRenderer.close();
    const resvgInBot = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('resvg'));
    const text = summarize(out.text!);
    const warm = summarize(out.warm!);
    const start = summarize(out.start!);
    const burst = summarize(out.burst!);
    const sent = summarize(out.sent!);
    const cpuWarm = summarize(cpu.warm);
    const cpuStart = summarize(cpu.start);
    const cpuBurst = summarize(cpu.burst);
    const lagWarm = summarize(lagMax.warm);
    printSeries('text alert (Telegram + Discord render)', text);
    printSeries("alert's picture, renderer warm, wall", warm);
    printSeries("alert's picture, renderer warm, CPU bot + child", cpuWarm);
    printSeries("alert's picture, renderer warm, the bot's own CPU", summarize(botCpuWarm));
    printSeries('renderer start-up (once per incident), wall', start);
    printSeries('renderer start-up, CPU bot + child', cpuStart);
    printSeries('spawn() in the bot (synchronous)', summarize(spawnSyncMs));
    printSeries('burst (start-up in the picture), wall', burst);
    printSeries('burst, CPU bot + child', cpuBurst);
    printSeries('sender: picture made ahead, from Redis', sent);
    printSeries('event-loop delay max per warm picture', lagWarm);
    printSeries('event-loop delay max per start-up', summarize(lagMax.start));
    printSeries('event-loop delay max per burst picture', summarize(lagMax.burst));
    console.log(`  PNG ${fmt(bytes / 1024)} KiB`);
    console.log(`  bot RSS before the picture modules ${fmt(mib(rssBefore))} MiB, max over all rounds ${fmt(mib(rssMax))} MiB; resvg loaded in the bot process: ${resvgInBot ? 'YES' : 'no'}`);
    const childText = childMem ? `own ${fmt(childMem.own)} MiB (private ${fmt(childMem.priv)} MiB), PSS ${fmt(childMem.pss)} MiB, RSS ${fmt(childMem.rss)} MiB` : 'not readable here';
    console.log(`  the renderer child between pictures (its own process, from the incident's first signal to a minute after it closes): ${childText}; peak RSS ${fmt(childPeakKib / 1024)} MiB`);
    // At its peak the child's files are resident as between pictures (they only grow): peak own = peak private + the files only it maps.
    const childFilesOnly = childMem ? childMem.own - childMem.priv : 0;
    const childPeakOwn = childPeakPriv + childFilesOnly;
    if (childMem) {
      const parts = Object.entries(childMem.parts).filter(([, v]) => v >= 0.05).sort((a, b) => b[1] - a[1]);
      console.log(`  the child's own memory between pictures by mapping (MiB): ${parts.map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
      console.log(`  the child's peak during a render (${PEAK_ROUNDS} pictures, read every ms): private ${fmt(childPeakPriv)} MiB, own ${fmt(childPeakOwn)} MiB`);
    }
    const botExtra = mib(rssMax - rssBefore);
    printAb(ab, AB_ROUNDS, AB_PERIOD_MS);
    // The older measure, printed for comparison: max over all picture rounds − the RSS after the text rounds.
    // Its top is wherever the bot's V8 heap is in its saw-tooth (ambient garbage), not what pictures cost.
    console.log(`  older measure (includes the heap's saw-tooth): bot extra RSS over all picture rounds ${fmt(botExtra)} MiB over its RSS after the text rounds (${fmt(mib(rssBefore))} MiB)`);
    if (childMem) console.log(`  older measure (includes the heap's saw-tooth): + child own between pictures ${fmt(botExtra + childMem.own)} MiB, + child own at its peak ${fmt(botExtra + childPeakOwn)} MiB`);
    const botAb = ab.botExtraMiB;
    figures.push(atMost(BENCH, "alert's picture (renderer warmed at the incident's first signal), p99 wall", warm.p99, BUDGET_MS, `≤ ${BUDGET_MS} ms (text alert p99 ${fmt(text.p99)} ms in this run)`));
    figures.push(atMost(BENCH, "alert's picture, median wall", warm.median, BUDGET_MS, `≤ ${BUDGET_MS} ms (text alert median ${fmt(text.median)} ms)`));
    figures.push(atMost(BENCH, "alert's picture, p99 CPU of bot + child", cpuWarm.p99, BUDGET_MS, `≤ ${BUDGET_MS} ms`));
    figures.push(atMost(BENCH, 'renderer start-up, once per incident at its first signal, p99 CPU of bot + child', cpuStart.p99, BUDGET_MS, `≤ ${BUDGET_MS} ms (off the picture's path; wall p99 ${fmt(start.p99)} ms)`));
    figures.push(atMost(BENCH, 'burst: first signal and alert in one read (picture waits for the start-up), p99 wall', burst.p99, BUDGET_MS, `≤ ${BUDGET_MS} ms (median ${fmt(burst.median)} ms)`));
    figures.push(atMost(BENCH, "bot's extra RSS, A/B: max RSS with pictures − max RSS without, same workload", botAb, BUDGET_RSS_MIB, `≤ ${BUDGET_RSS_MIB} MiB (phases ${AB_ORDER}, ${AB_ROUNDS} rounds each)`, 'MiB'));
    if (childMem) {
      const child = `child own ${fmt(childMem.own)} (private ${fmt(childMem.priv)}, PSS ${fmt(childMem.pss)}, RSS ${fmt(childMem.rss)})`;
      figures.push(atMost(BENCH, "extra memory while an incident is open (between pictures): bot's extra RSS (A/B) + the renderer child's own memory", botAb + childMem.own, BUDGET_RSS_MIB, `≤ ${BUDGET_RSS_MIB} MiB (bot ${fmt(botAb)}, ${child} MiB)`, 'MiB'));
      figures.push(atMost(BENCH, "extra memory to render (peak): bot's extra RSS (A/B) + the child's own memory at its peak during a render", botAb + childPeakOwn, BUDGET_RSS_MIB, `≤ ${BUDGET_RSS_MIB} MiB (bot ${fmt(botAb)}, child own ${fmt(childPeakOwn)} MiB)`, 'MiB'));
    }
    figures.push(atMost(BENCH, 'event-loop delay in the bot while warm pictures are made, max', lagWarm.max, 50, '≤ 50 ms'));
    for (const f of figures) reportFigure(f);
    if (resvgInBot) throw new Error("resvg was loaded in the bot's process: the picture is not made where it should be");

    // For context only (not a figure), after the figures because it loads resvg into this process: the old
    // way, resvg's renderAsync on the bot's own thread pool, interleaved with the child (running) and the text.
    if (process.env.BENCH_IN_PROCESS !== '0') {
      const { svgToPng } = await import('../src/alerts/picture-png.js');
      const inProcess = new PictureSource({ redis, keys, incidents: store, rasterize: svgToPng });
      const childAgain = new PictureRenderer();
      const childSource = sourceWith(childAgain);
      global.gc?.();
      const rss0 = process.memoryUsage.rss();
      let rss1 = rss0;
      const timed = async (src: Source): Promise<number> => {
        const t0 = performance.now();
        await src.render(ref, Date.now());
        const ms = performance.now() - t0;
        rss1 = Math.max(rss1, process.memoryUsage.rss());
        return ms;
      };
      const ctx = await interleaved(ROUNDS, 5, { text: textAlert, child: () => timed(childSource), inProcess: () => timed(inProcess) });
      await childAgain.close();
      printSeries('context: text alert', summarize(ctx.text!));
      printSeries('context: child running (as above), wall', summarize(ctx.child!));
      printSeries('context: in-process renderAsync (old way), wall', summarize(ctx.inProcess!));
      console.log(`  context: in-process, extra RSS of the bot's process ${fmt(mib(rss1 - rss0))} MiB`);
    }
    console.log(`  load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  } finally {
    const found = await redis.keys(keys.pattern);
    if (found.length) await redis.del(...found);
    redis.disconnect();
  }
  return figures;
}

runIfMain(import.meta.url, run);
