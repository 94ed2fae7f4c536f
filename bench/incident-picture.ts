/**
 * Benchmark (issue 14.9): making the incident picture as the notify side does it — one HGETALL of the
 * host's 3 h series from Redis, the incident, the SVG, the PNG (resvg on libuv's thread pool) — against a
 * baseline in the same process, rounds interleaved: rendering the text alert of the same incident for
 * Telegram and Discord. Also: the extra RSS the picture costs (resvg's module loaded after the baseline
 * RSS is taken, max RSS sampled over all picture rounds), the main-thread (synchronous) part of a render,
 * and how late a 5 ms timer fires while pictures render (what the event loop feels).
 *
 * Run: npx tsx bench/incident-picture.ts   (BENCH_ROUNDS, default 60)
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { renderAlert } from '../src/alerts/render-incident.js';
import { renderTelegram } from '../src/chat/telegram/render.js';
import { renderReply } from '../src/chat/discord/render.js';
import { IncidentStore } from '../src/monitor/incident-store.js';
import { newIncident, applySignal, policyFromConfig } from '../src/monitor/incident-machine.js';
import { minuteOf, SERIES_KEEP_MINUTES, SERIES_LUA, seriesKey } from '../src/monitor/host-series.js';
import { atMost, fmt, interleaved, printHeader, printSeries, reportFigure, runIfMain, summarize, type Figure } from './bench-kit.js';

const BENCH = 'incident-picture';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 60);
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const BUDGET_MS = 150;
const BUDGET_RSS_MIB = 20;
const HOST = 'prod';

const mib = (b: number): number => b / 2 ** 20;

/** Three hours of a bad afternoon: a stale tab looping, a rate-limit burst, memory climbing, a restart, a fix. */
async function seed(redis: Redis, prefix: string, now: number): Promise<void> {
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
  await redis.eval(`${SERIES_LUA}\nseries_write(KEYS[1], ARGV[1])\nreturn 1`, 1, seriesKey(prefix, HOST), JSON.stringify({ m, k: SERIES_KEEP_MINUTES, i, s }));
}

export async function run(): Promise<Figure[]> {
  printHeader('incident picture: series in Redis → SVG → PNG, against rendering the text alert');
  const prefix = `bench-picture-${process.pid}`;
  const redis = new Redis(REDIS_URL);
  const figures: Figure[] = [];
  try {
    const now = Date.now();
    await seed(redis, prefix, now);
    const store = new IncidentStore(redis, prefix);
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
    const { buildPictureSvg } = await import('../src/alerts/incident-picture.js');
    const { readHostSeries } = await import('../src/monitor/host-series.js');
    const { hostPicture } = await import('../src/alerts/picture-ref.js');
    const source = new PictureSource({ redis, prefix, incidents: store });
    const ref = hostPicture(HOST, inc.id);

    let rssMax = rssBefore;
    let bytes = 0;
    const syncMs: number[] = [];
    const cpuMs: number[] = [];
    const lag = monitorEventLoopDelay({ resolution: 5 });
    const picture = async (): Promise<number> => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      lag.enable();
      const png = await source.render(ref, Date.now());
      lag.disable();
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      cpuMs.push((c.user + c.system) / 1000);
      bytes = png.length;
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
      // The synchronous part alone (what blocks the event loop): arranging the series and writing the SVG.
      const series = await readHostSeries(redis, prefix, HOST, Date.now(), ref.hours);
      const s0 = performance.now();
      buildPictureSvg(series, { cause: inc.cause, window: { from: inc.firedAt ?? inc.firstEventAt } });
      syncMs.push(performance.now() - s0);
      return ms;
    };

    const out = await interleaved(ROUNDS, 5, { text: textAlert, picture });
    const text = summarize(out.text!);
    const pic = summarize(out.picture!);
    const cpu = summarize(cpuMs);
    printSeries('text alert (Telegram + Discord render)', text);
    printSeries('picture (Redis → SVG → PNG), wall', pic);
    printSeries('picture, process CPU (all threads)', cpu);
    printSeries('picture, main-thread SVG build', summarize(syncMs));
    console.log(`  PNG ${fmt(bytes / 1024)} KiB; event-loop delay while rendering: max ${fmt(lag.max / 1e6)} ms, p99 ${fmt(lag.percentile(99) / 1e6)} ms`);
    console.log(`  RSS before the picture module ${fmt(mib(rssBefore))} MiB, max over the picture rounds ${fmt(mib(rssMax))} MiB`);
    console.log(`  picture p99 / text alert p99: ${fmt(pic.p99 / text.p99)}×`);
    figures.push(atMost(BENCH, 'picture made (Redis → SVG → PNG), p99 wall', pic.p99, BUDGET_MS, `≤ ${BUDGET_MS} ms (text alert p99 ${fmt(text.p99)} ms in this run)`));
    figures.push(atMost(BENCH, 'picture made, p99 process CPU (all threads)', cpu.p99, BUDGET_MS, `≤ ${BUDGET_MS} ms (load-independent: what the render costs the machine)`));
    figures.push(atMost(BENCH, 'picture made, median wall', pic.median, BUDGET_MS, `≤ ${BUDGET_MS} ms (text alert median ${fmt(text.median)} ms)`));
    figures.push(atMost(BENCH, 'extra RSS to make pictures (module + renders)', mib(rssMax - rssBefore), BUDGET_RSS_MIB, `≤ ${BUDGET_RSS_MIB} MiB over RSS after the text alert rounds (${fmt(mib(rssBefore))} MiB)`, 'MiB'));
    figures.push(atMost(BENCH, 'event-loop delay while rendering, max', lag.max / 1e6, 50, '≤ 50 ms (the PNG is made off the event loop)'));
    for (const f of figures) reportFigure(f);
  } finally {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
  return figures;
}

runIfMain(import.meta.url, run);
