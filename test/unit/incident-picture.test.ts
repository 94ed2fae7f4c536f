/**
 * The incident picture from a known series: the SVG has one bar per minute and cause with a count, one
 * line point per memory sample, one marker per restart/fix minute and the alert window shaded; nothing in
 * it links anywhere; the PNG has the signature, the size and stays under the byte cap. Also the Telegram
 * caption's limit and the series buffer's arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { buildPictureSvg, PICTURE_SIZE } from '../../src/alerts/incident-picture.js';
import { PICTURE_MAX_BYTES, PNG_SIGNATURE, pngSize, svgToPng } from '../../src/alerts/picture-png.js';
import { renderPictureMessage } from '../../src/alerts/render-incident.js';
import { emptySeries, minuteOf, SeriesBuffer, seriesFromFields } from '../../src/state/host-series.js';
import { newIncident } from '../../src/monitor/incident-machine.js';
import { renderCaption, TELEGRAM_CAPTION_LIMIT } from '../../src/chat/telegram/render.js';
import { KeySpace } from '../../src/state/key-space.js';

const NOW = Date.UTC(2026, 11, 6, 3, 40, 30);

function knownSeries() {
  const s = emptySeries('prod', minuteOf(NOW) - 179, 180);
  // 20 minutes of token refusals (3 each), 5 minutes of rate-limit (2 each), 1 origin minute.
  for (let i = 150; i < 170; i++) s.refusals.tok[i] = 3;
  for (let i = 160; i < 165; i++) s.refusals.rate[i] = 2;
  s.refusals.orig[175] = 7;
  // Memory every other minute for the first hour, then a gap, then 10 minutes.
  for (let i = 0; i < 60; i += 2) s.samples.mem[i] = 40 + i / 2;
  for (let i = 100; i < 110; i++) s.samples.mem[i] = 55;
  s.samples.rss[120] = 410.5;
  s.markers.rst[140] = 1;
  s.markers.fix[171] = 1;
  return s;
}

const count = (svg: string, re: RegExp): number => (svg.match(re) ?? []).length;

describe('incident picture: SVG from a known series', () => {
  const s = knownSeries();
  const svg = buildPictureSvg(s, { cause: 'token_mismatch', window: { from: NOW - 30 * 60_000 } });

  it('has one bar per minute and cause with a count, carrying that count', () => {
    expect(count(svg, /class="bar s-tok"/g)).toBe(20);
    expect(count(svg, /class="bar s-rate"/g)).toBe(5);
    expect(count(svg, /class="bar s-orig" data-n="7"/g)).toBe(1);
    expect(count(svg, /class="bar s-oth"/g)).toBe(0);
    const total = [...svg.matchAll(/class="bar s-\w+" data-n="(\d+)"/g)].reduce((a, m) => a + Number(m[1]), 0);
    expect(total).toBe(20 * 3 + 5 * 2 + 7);
  });

  it('draws memory as unbroken runs (a gap breaks the line) and RSS where sampled', () => {
    // Every other minute is a gap too: 30 single points in the first hour, then one run of 10.
    const runs = [...svg.matchAll(/class="line s-mem" data-points="(\d+)"/g)].map((m) => Number(m[1]));
    expect(runs.reduce((a, b) => a + b, 0)).toBe(30 + 10);
    expect(runs).toContain(10);
    expect(count(svg, /class="line s-rss"/g)).toBe(1);
  });

  it('marks restarts and fixes, shades the alert window, labels the time axis', () => {
    expect(count(svg, /class="marker m-rst"/g)).toBe(1);
    expect(count(svg, /class="marker m-fix"/g)).toBe(1);
    expect(count(svg, /class="window"/g)).toBe(1);
    expect(svg).toContain('prod · token_mismatch · last 3 h (UTC)');
    expect(svg).toMatch(/>0[0-3]:[03]0</);
  });

  it('links nowhere: no anchor, no href, no external reference', () => {
    expect(svg).not.toMatch(/<a[\s>]/);
    expect(svg).not.toMatch(/href/i);
    expect(svg).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg")/);
  });

  it('rasterizes to a PNG of the picture size under the byte cap', async () => {
    const png = await svgToPng(svg);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(pngSize(png)).toEqual({ width: PICTURE_SIZE.width, height: PICTURE_SIZE.height });
    expect(png.length).toBeGreaterThan(5_000); // it drew something (text included)
    expect(png.length).toBeLessThan(Math.min(PICTURE_MAX_BYTES, 150 * 1024));
  });

  it('an empty window still renders (says so in its legend)', async () => {
    const empty = buildPictureSvg(emptySeries('prod', minuteOf(NOW) - 59, 60));
    expect(count(empty, /class="bar /g)).toBe(0);
    expect(empty).toContain('no refusals, no samples in this window');
    expect(pngSize(await svgToPng(empty))).toEqual({ width: PICTURE_SIZE.width, height: PICTURE_SIZE.height });
  });
});

describe('series buffer and stored fields', () => {
  it('counts per minute and series, drops events older than the window, round-trips through the stored fields', () => {
    const buf = new SeriesBuffer(60);
    buf.add('tok', NOW, 1, NOW);
    buf.add('tok', NOW - 1000, 1, NOW);
    buf.add('rate', NOW - 120_000, 2, NOW);
    buf.add('tok', NOW - 2 * 3600_000, 1, NOW); // outside 60 minutes: dropped
    buf.sample('mem', NOW, 51.26);
    buf.add('rst', NOW - 60_000, 1, NOW);
    const spec = JSON.parse(buf.take(NOW)) as { m: number; k: number; i: Record<string, number>; s: Record<string, string> };
    const m = minuteOf(NOW);
    expect(spec).toEqual({ m, k: 60, i: { [`${m}:tok`]: 2, [`${m - 2}:rate`]: 2, [`${m - 1}:rst`]: 1 }, s: { [`${m}:mem`]: '51.3' } });
    expect(buf.empty).toBe(true);
    const fields = { ...Object.fromEntries(Object.entries(spec.i).map(([k, v]) => [k, String(v)])), ...spec.s, _trim: String(m - 60) };
    const series = seriesFromFields('prod', fields, NOW, 1);
    expect(series.minutes).toBe(60);
    expect(series.refusals.tok[59]).toBe(2);
    expect(series.refusals.rate[57]).toBe(2);
    expect(series.markers.rst[58]).toBe(1);
    expect(series.samples.mem[59]).toBe(51.3);
  });

  it('a failed write is put back and merged with what came meanwhile', () => {
    const buf = new SeriesBuffer();
    buf.add('tok', NOW, 3, NOW);
    const spec = buf.take(NOW);
    buf.add('tok', NOW, 1, NOW);
    buf.restore(spec);
    expect((JSON.parse(buf.take(NOW)) as { i: Record<string, number> }).i[`${minuteOf(NOW)}:tok`]).toBe(4);
  });
});

describe('picture message', () => {
  it('queues a reference only, and its Telegram caption fits 1024 characters', () => {
    const inc = newIncident('prod', 'token_mismatch', 'log', NOW);
    const reply = renderPictureMessage(inc);
    expect(reply.image?.ref).toEqual({ kind: 'host-hours', host: 'prod', hours: 3, incidentId: inc.id });
    expect(reply.image?.data).toBeUndefined();
    expect(JSON.stringify(reply).length).toBeLessThan(1000);
    const caption = renderCaption({ ...reply, body: ['x'.repeat(5000)] });
    expect(caption.length).toBeLessThanOrEqual(TELEGRAM_CAPTION_LIMIT);
    expect(caption).toContain(`incident ${inc.id}`);
  });
});

describe('console: a picture message prints the path of a PNG it wrote', () => {
  it('writes the PNG made for the reference and prints its path', async () => {
    const { ConsoleAdapter } = await import('../../src/chat/console/console-adapter.js');
    const { existsSync, readFileSync, mkdtempSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clawmedic-picture-'));
    const png = await svgToPng(buildPictureSvg(knownSeries(), { cause: 'token_mismatch' }));
    const lines: string[] = [];
    const adapter = new ConsoleAdapter({
      router: {} as never,
      subscriber: {} as never,
      box: {} as never, // opens sealed secrets; this delivery has none
      keys: new KeySpace('unused'),
      userId: 'local',
      write: (t) => lines.push(t),
      pictures: { png: async () => png },
      pictureDir: dir,
    });
    const inc = newIncident('prod', 'token_mismatch', 'log', NOW);
    await adapter.deliver({ chat: adapter.chat, reply: renderPictureMessage(inc), messageKey: 'k1', seq: 1 });
    const printed = lines.join('\n');
    const file = /picture: (\S+\.png)/.exec(printed)?.[1];
    expect(file, printed).toBeDefined();
    expect(file!.startsWith(dir)).toBe(true);
    expect(existsSync(file!)).toBe(true);
    expect(readFileSync(file!).subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(printed).toContain('prod, the last 3 h');
  });
});
