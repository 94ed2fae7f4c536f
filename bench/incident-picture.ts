/**
 * Benchmark (issue 14.9): making the incident picture as the bot does it — one HGETALL of the host's 3 h
 * series from Redis, the incident, the SVG, and the PNG from the renderer's child process — measured in and
 * against the process that hosts the bot. Arms, rounds interleaved in one run:
 *   - text: rendering the text alert of the same incident for Telegram and Discord (the baseline);
 *   - cold: the first picture of an alert, when no renderer child runs (it exits after a quiet minute, so
 *     this is nearly every alert's case): the child's start-up is in the wall time and the CPU;
 *   - warm: a picture while the child still runs (the second chat, a diagnose right after).
 * Figures: wall p99 and median; CPU per picture of the bot's process plus the child's (the machine pays
 * both); the bot's extra RSS over its RSS after the text rounds (sampled every 5 ms through all rounds; resvg
 * must not even load in it); how late a 5 ms timer fires in the bot meanwhile. For context, printed after
 * the figures: the child's peak RSS, and the old way (resvg's renderAsync in the bot's own process) in rounds
 * interleaved with the running child and the text alert (this loads resvg here, hence after the figures).
 *
 * Run: npx tsx bench/incident-picture.ts   (BENCH_ROUNDS, default 60)
 */
import { createRequire } from 'node:module';
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

const BENCH = 'incident-picture';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 60);
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const BUDGET_MS = 150;
const BUDGET_RSS_MIB = 20;
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

export async function run(): Promise<Figure[]> {
  printHeader('incident picture: series in Redis → SVG → PNG, against rendering the text alert');
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
    const rssBefore = process.memoryUsage().rss;

    const { PictureSource } = await import('../src/alerts/picture-source.js');
    const { PictureRenderer } = await import('../src/alerts/picture-renderer.js');
    const { hostPicture } = await import('../src/alerts/picture-ref.js');
    const ref = hostPicture(HOST, inc.id);
    const sourceWith = (r: InstanceType<typeof PictureRenderer>) => new PictureSource({ redis, keys, incidents: store, rasterize: (svg) => r.render(svg) });
    const warmRenderer = new PictureRenderer();
    const warmSource = sourceWith(warmRenderer);

    let rssMax = rssBefore;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 5);
    let bytes = 0;
    let childPeakKib = 0;
    const cpu: Record<'cold' | 'warm', number[]> = { cold: [], warm: [] };
    const lag = monitorEventLoopDelay({ resolution: 5 });
    let warmCpuBefore = 0;
    /** One picture through `source`; `childCpu` = what the child spent on it (cold: its whole life so far). */
    const picture = async (arm: 'cold' | 'warm', source: InstanceType<typeof PictureSource>, renderer: InstanceType<typeof PictureRenderer>): Promise<number> => {
      const c0 = process.cpuUsage();
      lag.enable();
      const t0 = performance.now();
      const png = await source.render(ref, Date.now());
      const ms = performance.now() - t0;
      lag.disable();
      const c = process.cpuUsage(c0);
      const st = renderer.lastStats!;
      const childCpu = arm === 'cold' ? st.childCpuMs : st.childCpuMs - warmCpuBefore;
      if (arm === 'warm') warmCpuBefore = st.childCpuMs;
      cpu[arm].push((c.user + c.system) / 1000 + childCpu);
      childPeakKib = Math.max(childPeakKib, st.childMaxRssKib);
      bytes = png.length;
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
      return ms;
    };
    await warmSource.render(ref, Date.now()); // the warm arm's child is running from here on
    warmCpuBefore = warmRenderer.lastStats!.childCpuMs;

    const out = await interleaved(ROUNDS, 5, {
      text: textAlert,
      cold: async () => {
        const r = new PictureRenderer();
        try {
          return await picture('cold', sourceWith(r), r);
        } finally {
          await r.close(); // in the bot the child exits a minute later; here each round starts one anew
        }
      },
      warm: () => picture('warm', warmSource, warmRenderer),
    });
    clearInterval(sampler);
    await warmRenderer.close();
    const resvgInBot = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('resvg'));
    const text = summarize(out.text!);
    const cold = summarize(out.cold!);
    const warm = summarize(out.warm!);
    const cpuCold = summarize(cpu.cold);
    const cpuWarm = summarize(cpu.warm);
    printSeries('text alert (Telegram + Discord render)', text);
    printSeries('picture, first of an alert (child starts), wall', cold);
    printSeries('picture, child running, wall', warm);
    printSeries('picture, first, CPU bot + child', cpuCold);
    printSeries('picture, child running, CPU bot + child', cpuWarm);
    console.log(`  PNG ${fmt(bytes / 1024)} KiB; event-loop delay in the bot while pictures were made: max ${fmt(lag.max / 1e6)} ms, p99 ${fmt(lag.percentile(99) / 1e6)} ms`);
    console.log(`  bot RSS before the picture modules ${fmt(mib(rssBefore))} MiB, max over all rounds ${fmt(mib(rssMax))} MiB; resvg loaded in the bot process: ${resvgInBot ? 'YES' : 'no'}`);
    console.log(`  the renderer child's peak RSS (its own process, gone a minute after the last picture): ${fmt(childPeakKib / 1024)} MiB`);
    figures.push(atMost(BENCH, 'picture, first of an alert (child starts), p99 wall', cold.p99, BUDGET_MS, `≤ ${BUDGET_MS} ms (text alert p99 ${fmt(text.p99)} ms in this run)`));
    figures.push(atMost(BENCH, 'picture, first of an alert, median wall', cold.median, BUDGET_MS, `≤ ${BUDGET_MS} ms (text alert median ${fmt(text.median)} ms)`));
    figures.push(atMost(BENCH, 'picture, child running, p99 wall', warm.p99, BUDGET_MS, `≤ ${BUDGET_MS} ms`));
    figures.push(atMost(BENCH, 'picture, first of an alert, p99 CPU of bot + child', cpuCold.p99, BUDGET_MS, `≤ ${BUDGET_MS} ms (includes the child's Node start-up)`));
    figures.push(atMost(BENCH, "extra RSS of the bot's process (all picture rounds)", mib(rssMax - rssBefore), BUDGET_RSS_MIB, `≤ ${BUDGET_RSS_MIB} MiB over its RSS after the text alert rounds (${fmt(mib(rssBefore))} MiB)`, 'MiB'));
    figures.push(atMost(BENCH, 'event-loop delay in the bot while pictures are made, max', lag.max / 1e6, 50, '≤ 50 ms'));
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
      const rss0 = process.memoryUsage().rss;
      let rss1 = rss0;
      const timed = async (src: InstanceType<typeof PictureSource>): Promise<number> => {
        const t0 = performance.now();
        await src.render(ref, Date.now());
        const ms = performance.now() - t0;
        rss1 = Math.max(rss1, process.memoryUsage().rss);
        return ms;
      };
      const ctx = await interleaved(ROUNDS, 5, { text: textAlert, child: () => timed(childSource), inProcess: () => timed(inProcess) });
      await childAgain.close();
      printSeries('context: text alert', summarize(ctx.text!));
      printSeries('context: child running (as above), wall', summarize(ctx.child!));
      printSeries('context: in-process renderAsync (old way), wall', summarize(ctx.inProcess!));
      console.log(`  context: in-process, extra RSS of the bot's process ${fmt(mib(rss1 - rss0))} MiB`);
    }
  } finally {
    const found = await redis.keys(keys.pattern);
    if (found.length) await redis.del(...found);
    redis.disconnect();
  }
  return figures;
}

runIfMain(import.meta.url, run);
