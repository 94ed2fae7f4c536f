/**
 * The incident picture as SVG: a host's recent hours, refusals per minute stacked by cause, host memory %
 * and the gateway's RSS, restarts and fixes as markers, the alert's window shaded. Pure (no I/O, no clock):
 * the same series always gives the same SVG, so tests count its bars and points. picture-png.ts turns it
 * into a PNG. Nothing in it links anywhere: no <a>, no href, no external image or font reference.
 */
import type { Cause } from '../domain/diagnosis.js';
import {
  MARKER_SERIES,
  REFUSAL_SERIES,
  type HostSeries,
  type MarkerSeries,
  type RefusalSeries,
} from '../state/host-series.js';

/**
 * Size of the picture in pixels. A phone shows it about 330 CSS pixels wide, so every pixel of width makes
 * the labels smaller there: at 640 wide a 14 px label shows at about 7 CSS px (800 wide with 11–12 px labels
 * showed them at 5). Fewer pixels are also less to rasterize and encode (1.6 MB of RGBA at 800×450, 0.9 MB here).
 */
export const PICTURE_SIZE = { width: 640, height: 360 } as const;
/** Label sizes in pixels (see PICTURE_SIZE for how large they show on a phone). */
const FONT = { title: 17, label: 14, small: 13 } as const;
/** Font family the rasterizer is given (shipped with the @expo-google-fonts/roboto package). */
export const PICTURE_FONT_FAMILY = 'Roboto';

/** Colours by series (colour-blind-safe palette: Okabe–Ito). */
export const SERIES_COLOURS: Readonly<Record<RefusalSeries | MarkerSeries | 'mem' | 'rss', string>> = {
  tok: '#D55E00',
  rate: '#E69F00',
  orig: '#0072B2',
  oth: '#999999',
  mem: '#009E73',
  rss: '#CC79A7',
  rst: '#56B4E9',
  fix: '#000000',
};

/** The window an alert covers (shaded), and what the picture is about. */
export interface PictureIncident {
  cause?: Cause;
  /** Label of the cause for the title (plain text). */
  label?: string;
  /** Shaded window, epoch ms; `to` undefined = still open (shaded to the right edge). */
  window?: { from: number; to?: number };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const r1 = (n: number): string => (Math.round(n * 10) / 10).toString();

/** A "nice" axis maximum at or above `v` (1, 2, 5 × 10^n). */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const hhmm = (minute: number): string => new Date(minute * 60_000).toISOString().slice(11, 16);

/** Split a sampled series into runs of consecutive defined points (a gap breaks the line). */
function runs(values: Array<number | undefined>): Array<Array<[number, number]>> {
  const out: Array<Array<[number, number]>> = [];
  let cur: Array<[number, number]> = [];
  values.forEach((v, i) => {
    if (v === undefined) {
      if (cur.length) out.push(cur);
      cur = [];
    } else cur.push([i, v]);
  });
  if (cur.length) out.push(cur);
  return out;
}

/** Short legend labels: the legend has one line or two on a phone-sized picture. */
const LEGEND_LABELS: Readonly<Record<RefusalSeries | 'mem' | 'rss' | MarkerSeries, string>> = {
  tok: '4008/1008',
  rate: 'rate-limited',
  orig: 'origin',
  oth: 'other',
  mem: 'memory %',
  rss: 'RSS MiB',
  rst: 'R restart',
  fix: 'F fix',
};

/** The legend's entries: the series that have something to show. */
function legendOf(series: HostSeries): Array<{ colour: string; label: string }> {
  const has = (values: ReadonlyArray<number | undefined>): boolean => values.some((v) => v !== undefined && v > 0);
  const names: Array<RefusalSeries | 'mem' | 'rss' | MarkerSeries> = [
    ...REFUSAL_SERIES.filter((s) => has(series.refusals[s])),
    ...(has(series.samples.mem) ? (['mem'] as const) : []),
    ...(series.samples.rss.some((v) => v !== undefined) ? (['rss'] as const) : []),
    ...MARKER_SERIES.filter((m) => has(series.markers[m])),
  ];
  const out = names.map((k) => ({ colour: SERIES_COLOURS[k], label: LEGEND_LABELS[k] }));
  return out.length ? out : [{ colour: '#ffffff', label: 'no refusals, no samples in this window' }];
}

/** Wrap legend entries into rows no wider than `width` (label width estimated at 0.52 em per character: Roboto's average, with room). */
function layoutLegend(entries: Array<{ colour: string; label: string }>, width: number): Array<Array<{ colour: string; label: string; x: number }>> {
  const rows: Array<Array<{ colour: string; label: string; x: number }>> = [[]];
  let x = 0;
  for (const e of entries) {
    const w = 15 + e.label.length * FONT.small * 0.52 + 14;
    if (x > 0 && x + w > width) {
      rows.push([]);
      x = 0;
    }
    rows[rows.length - 1]!.push({ ...e, x });
    x += w;
  }
  return rows;
}

/** Where everything goes: the legend wraps, so its rows are laid out first and the panels get what is left. */
interface Layout {
  W: number;
  H: number;
  n: number;
  left: number;
  plotW: number;
  topA: number;
  hA: number;
  topB: number;
  hB: number;
  axisY: number;
  step: number;
  /** Half a minute's width: lines and markers sit in the middle of their minute. */
  mid: number;
  legendH: number;
  legendRows: Array<Array<{ colour: string; label: string; x: number }>>;
  xOf(i: number): number;
}

function layoutOf(series: HostSeries): Layout {
  const { width: W, height: H } = PICTURE_SIZE;
  const n = series.minutes;
  const legendRows = layoutLegend(legendOf(series), W - 16);
  const left = 40;
  const right = 54;
  const plotW = W - left - right;
  const topA = 44;
  const axisLabels = 20;
  const legendH = legendRows.length * 19 + 4;
  const hB = 62;
  const gap = 22;
  const hA = H - topA - gap - hB - axisLabels - legendH;
  const topB = topA + hA + gap;
  const step = plotW / n;
  return { W, H, n, left, plotW, topA, hA, topB, hB, axisY: topB + hB, step, mid: step / 2, legendH, legendRows, xOf: (i) => left + i * step };
}

/** The alert's window, behind everything else. */
function drawWindow(out: string[], L: Layout, series: HostSeries, window: PictureIncident['window']): void {
  if (!window) return;
  const { n, xOf, step, topA, axisY } = L;
  const fromM = window.from / 60_000 - series.fromMinute;
  const toM = window.to === undefined ? n : window.to / 60_000 - series.fromMinute + 1;
  const a = Math.max(0, Math.min(n, fromM));
  const b = Math.max(0, Math.min(n, toM));
  if (b > a) {
    out.push(`<rect class="window" x="${r1(xOf(a))}" y="${topA}" width="${r1(Math.max(1, (b - a) * step))}" height="${axisY - topA}" fill="#D55E00" fill-opacity="0.10"/>`);
    out.push(`<text x="${r1(xOf(a) + 3)}" y="${topA + 14}" font-size="${FONT.small}" fill="#A04000">alert</text>`);
  }
}

/** Panel A: refusals per minute, stacked by cause. */
function drawRefusals(out: string[], L: Layout, series: HostSeries): void {
  const { n, left, plotW, topA, hA, step, xOf } = L;
  const totals = new Array<number>(n).fill(0);
  for (const s of REFUSAL_SERIES) series.refusals[s].forEach((v, i) => (totals[i]! += v));
  const maxA = niceMax(Math.max(0, ...totals));
  const yA = (v: number): number => topA + hA - (v / maxA) * hA;
  for (const frac of [0, 0.5, 1]) {
    const y = yA(maxA * frac);
    out.push(`<line x1="${left}" y1="${r1(y)}" x2="${left + plotW}" y2="${r1(y)}" stroke="#e4e4e4" stroke-width="1"/>`);
    out.push(`<text x="${left - 5}" y="${r1(y + 5)}" text-anchor="end" fill="#555555">${maxA * frac}</text>`);
  }
  out.push(`<text x="${left}" y="${topA - 5}" font-size="${FONT.small}" fill="#555555">refusals / min</text>`);
  const barW = Math.max(1, step * 0.85);
  const base = new Array<number>(n).fill(0);
  for (const s of REFUSAL_SERIES) {
    series.refusals[s].forEach((v, i) => {
      if (!(v > 0)) return;
      const y0 = yA(base[i]!);
      const y1 = yA(base[i]! + v);
      base[i]! += v;
      out.push(`<rect class="bar s-${s}" data-n="${v}" x="${r1(xOf(i))}" y="${r1(y1)}" width="${r1(barW)}" height="${r1(Math.max(0.5, y0 - y1))}" fill="${SERIES_COLOURS[s]}"/>`);
    });
  }
}

/** Panel B: host memory % (left axis, 0–100) and gateway RSS MiB (right axis). */
function drawMemory(out: string[], L: Layout, series: HostSeries): void {
  const { left, plotW, topB, hB, mid, xOf } = L;
  const yMem = (v: number): number => topB + hB - (Math.min(100, Math.max(0, v)) / 100) * hB;
  const rssValues = series.samples.rss.filter((v): v is number => v !== undefined);
  const maxRss = niceMax(Math.max(0, ...rssValues));
  const yRss = (v: number): number => topB + hB - (Math.max(0, v) / maxRss) * hB;
  out.push(`<rect x="${left}" y="${topB}" width="${plotW}" height="${hB}" fill="none" stroke="#e4e4e4"/>`);
  out.push(`<text x="${left - 5}" y="${topB + 10}" text-anchor="end" fill="${SERIES_COLOURS.mem}">100%</text>`);
  out.push(`<text x="${left - 5}" y="${topB + hB + 4}" text-anchor="end" fill="${SERIES_COLOURS.mem}">0</text>`);
  out.push(`<text x="${left}" y="${topB - 5}" font-size="${FONT.small}" fill="#555555">memory</text>`);
  if (rssValues.length) {
    out.push(`<text x="${left + plotW + 5}" y="${topB + 10}" fill="${SERIES_COLOURS.rss}">${maxRss}</text>`);
    out.push(`<text x="${left + plotW + 5}" y="${topB + hB + 4}" fill="${SERIES_COLOURS.rss}">0</text>`);
  }
  for (const [name, y] of [['mem', yMem], ['rss', yRss]] as const) {
    for (const run of runs(series.samples[name])) {
      const pts = run.map(([i, v]) => `${r1(xOf(i) + mid)},${r1(y(v))}`).join(' ');
      if (run.length === 1) {
        const [i, v] = run[0]!;
        out.push(`<circle class="line s-${name}" data-points="1" cx="${r1(xOf(i) + mid)}" cy="${r1(y(v))}" r="2" fill="${SERIES_COLOURS[name]}"/>`);
      } else {
        out.push(`<polyline class="line s-${name}" data-points="${run.length}" points="${pts}" fill="none" stroke="${SERIES_COLOURS[name]}" stroke-width="2"/>`);
      }
    }
  }
}

/** Markers across both panels: gateway (re)starts and fixes. */
function drawMarkers(out: string[], L: Layout, series: HostSeries): void {
  const { topA, axisY, mid, xOf } = L;
  for (const m of MARKER_SERIES) {
    series.markers[m].forEach((v, i) => {
      if (!(v > 0)) return;
      const x = r1(xOf(i) + mid);
      const dash = m === 'rst' ? ' stroke-dasharray="4 3"' : '';
      out.push(`<line class="marker m-${m}" data-n="${v}" x1="${x}" y1="${topA}" x2="${x}" y2="${axisY}" stroke="${SERIES_COLOURS[m]}" stroke-width="1.5"${dash}/>`);
      out.push(`<text x="${x}" y="${topA - 3}" text-anchor="middle" font-size="${FONT.small}" fill="${SERIES_COLOURS[m]}">${m === 'rst' ? 'R' : 'F'}</text>`);
    });
  }
}

/** Time axis: a tick every 30 min (hourly past 3 h), then panel A's base line. */
function drawTimeAxis(out: string[], L: Layout, series: HostSeries): void {
  const { n, left, plotW, topA, hA, axisY, xOf } = L;
  const every = n > 180 ? 60 : 30;
  for (let i = 0; i < n; i++) {
    const minute = series.fromMinute + i;
    if (minute % every !== 0) continue;
    const x = r1(xOf(i));
    out.push(`<line x1="${x}" y1="${axisY}" x2="${x}" y2="${axisY + 4}" stroke="#888888"/>`);
    out.push(`<text x="${x}" y="${axisY + 17}" text-anchor="middle" fill="#555555">${hhmm(minute)}</text>`);
  }
  out.push(`<line x1="${left}" y1="${topA + hA}" x2="${left + plotW}" y2="${topA + hA}" stroke="#888888"/>`);
}

/** Legend: the series that have something to show (every label costs the rasterizer a text run). */
function drawLegend(out: string[], L: Layout): void {
  L.legendRows.forEach((row, r) => {
    const ly = L.H - L.legendH + 4 + r * 19 + 13;
    for (const { colour, label, x } of row) {
      out.push(`<rect x="${r1(8 + x)}" y="${ly - 10}" width="11" height="11" fill="${colour}"/>`);
      out.push(`<text x="${r1(8 + x + 15)}" y="${ly}" font-size="${FONT.small}" fill="#333333">${esc(label)}</text>`);
    }
  });
}

/**
 * Build the picture's SVG. Elements carry classes tests can count: `bar s-<series>` (one rect per minute
 * and series with a count, `data-n` = the count), `line s-mem|s-rss` (a polyline per unbroken run,
 * `data-points` = its point count), `marker m-rst|m-fix` (one per minute with a marker), `window` (the
 * shaded alert window).
 */
export function buildPictureSvg(series: HostSeries, incident: PictureIncident = {}): string {
  const L = layoutOf(series);
  const { W, H } = L;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${PICTURE_FONT_FAMILY}" font-size="${FONT.label}">`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
  );
  const hours = Math.round((L.n / 60) * 10) / 10;
  const title = [series.host, incident.label ?? incident.cause, `last ${hours} h (UTC)`].filter(Boolean).join(' · ');
  out.push(`<text x="8" y="22" font-size="${FONT.title}" fill="#222222">${esc(title)}</text>`);
  // Painted in this order: later elements lie on top of earlier ones.
  drawWindow(out, L, series, incident.window);
  drawRefusals(out, L, series);
  drawMemory(out, L, series);
  drawMarkers(out, L, series);
  drawTimeAxis(out, L, series);
  drawLegend(out, L);
  out.push('</svg>');
  return out.join('\n');
}
