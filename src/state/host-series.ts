/**
 * The recent hours of one host as per-minute buckets, for the incident picture: refusals by cause
 * (from the log follower's signals), host memory and the gateway's RSS (from probe results), restarts
 * and fixes as markers. One Redis hash per host (KeySpace.series), fields
 * `<epoch minute>:<series>`, trimmed to the last `seriesHours` on every write and expiring whole when
 * nothing writes. Written inside the scripts the monitor already runs (the fenced incident save and the
 * probe record), so it costs no extra round trip.
 */
import type { RedisClient } from './redis.js';
import type { Cause } from '../domain/diagnosis.js';
import { MONITOR_DEFAULTS } from '../constants.js';
import type { KeySpace } from './key-space.js';

/** Refusal series: one bar colour each in the picture. */
export const REFUSAL_SERIES = ['tok', 'rate', 'orig', 'oth'] as const;
export type RefusalSeries = (typeof REFUSAL_SERIES)[number];
/** Sampled series (last value of the minute wins). */
export const SAMPLE_SERIES = ['mem', 'rss'] as const;
export type SampleSeries = (typeof SAMPLE_SERIES)[number];
/** Marker series (a count per minute). */
export const MARKER_SERIES = ['rst', 'fix'] as const;
export type MarkerSeries = (typeof MARKER_SERIES)[number];
/** Every series name, in the order the trim deletes them. */
export const SERIES_NAMES = [...REFUSAL_SERIES, ...SAMPLE_SERIES, ...MARKER_SERIES] as const;
export type SeriesName = (typeof SERIES_NAMES)[number];

/** Words for the picture's legend. */
export const SERIES_LABELS: Readonly<Record<SeriesName, string>> = {
  tok: '4008/1008 token',
  rate: 'rate-limited',
  orig: 'origin refused',
  oth: 'other refusals',
  mem: 'host memory %',
  rss: 'gateway RSS MiB',
  rst: 'gateway (re)start',
  fix: 'fix',
};

/** Which refusal series a log signal of `family` counts in (undefined: not a refusal, not charted). */
export function refusalSeries(family: Cause): RefusalSeries | undefined {
  switch (family) {
    case 'token_mismatch':
    case 'device_token_mismatch':
      return 'tok';
    case 'rate_limited':
      return 'rate';
    case 'origin_not_allowed':
      return 'orig';
    case 'insecure_context':
    case 'unknown':
      return 'oth';
    default:
      return undefined;
  }
}

/** Epoch minute of a time in ms. */
export const minuteOf = (ms: number): number => Math.floor(ms / 60_000);

/**
 * Lua: apply one write spec (JSON `{m, k, i: {field: n}, s: {field: value}}`) to a host's hash, then
 * delete the fields of minutes that fell out of the window since the last trim (at most `k` minutes of
 * them, one HDEL each; after a longer gap every field is looked at once) and push the key's expiry out.
 */
export const SERIES_LUA = `
local SERIES_NAMES = {${SERIES_NAMES.map((n) => `'${n}'`).join(', ')}}
local function series_write(key, spec)
  if spec == nil or spec == '' then return end
  local d = cjson.decode(spec)
  local m = tonumber(d['m'])
  local keep = tonumber(d['k'])
  if type(d['i']) == 'table' then
    for f, n in pairs(d['i']) do redis.call('HINCRBY', key, f, n) end
  end
  if type(d['s']) == 'table' then
    for f, v in pairs(d['s']) do redis.call('HSET', key, f, v) end
  end
  local cutoff = m - keep
  local last = tonumber(redis.call('HGET', key, '_trim') or '')
  if last == nil then
    redis.call('HSET', key, '_trim', cutoff)
  elseif last < cutoff - keep then
    -- Not trimmed for longer than the window (rare: the key expires when idle): look at every field once.
    for _, f in ipairs(redis.call('HKEYS', key)) do
      local fm = tonumber(string.match(f, '^(%d+):'))
      if fm ~= nil and fm <= cutoff then redis.call('HDEL', key, f) end
    end
    redis.call('HSET', key, '_trim', cutoff)
  elseif last < cutoff then
    for mm = last + 1, cutoff do
      local fields = {}
      for _, name in ipairs(SERIES_NAMES) do fields[#fields + 1] = mm .. ':' .. name end
      redis.call('HDEL', key, unpack(fields))
    end
    redis.call('HSET', key, '_trim', cutoff)
  end
  redis.call('PEXPIRE', key, (keep + 5) * 60000)
end
`;

/** A write spec for {@link SERIES_LUA} (JSON-encoded into the script's arguments). */
export interface SeriesWrite {
  /** The current minute (trim reference). */
  m: number;
  /** Minutes kept. */
  k: number;
  /** Increments by field. */
  i?: Record<string, number>;
  /** Samples by field (strings: Lua keeps them as given). */
  s?: Record<string, string>;
}

/** Minutes kept, from MONITOR_DEFAULTS.seriesHours. */
export const SERIES_KEEP_MINUTES = MONITOR_DEFAULTS.seriesHours * 60;

/**
 * Increments and samples of one host gathered between two saves (in memory, a few fields), handed to
 * the save script as one spec. Events older than the kept window are dropped here.
 */
export class SeriesBuffer {
  private incs = new Map<string, number>();
  private samples = new Map<string, string>();

  constructor(private readonly keepMinutes = SERIES_KEEP_MINUTES) {}

  /** Count `n` of `name` in the minute of `atMs`. */
  add(name: RefusalSeries | MarkerSeries, atMs: number, n = 1, now = Date.now()): void {
    const m = minuteOf(atMs);
    if (m <= minuteOf(now) - this.keepMinutes) return;
    const f = `${m}:${name}`;
    this.incs.set(f, (this.incs.get(f) ?? 0) + n);
  }

  /** Set the sample of `name` for the minute of `atMs`. */
  sample(name: SampleSeries, atMs: number, value: number): void {
    if (!Number.isFinite(value)) return;
    this.samples.set(`${minuteOf(atMs)}:${name}`, String(Math.round(value * 10) / 10));
  }

  get empty(): boolean {
    return this.incs.size === 0 && this.samples.size === 0;
  }

  /** The spec to write (and an empty buffer), or '' when there is nothing. */
  take(now = Date.now()): string {
    if (this.empty) return '';
    const spec: SeriesWrite = { m: minuteOf(now), k: this.keepMinutes };
    if (this.incs.size) spec.i = Object.fromEntries(this.incs);
    if (this.samples.size) spec.s = Object.fromEntries(this.samples);
    this.incs = new Map();
    this.samples = new Map();
    return JSON.stringify(spec);
  }

  /** Put back a spec whose write failed (merged with what arrived meanwhile). */
  restore(raw: string): void {
    if (!raw) return;
    const spec = JSON.parse(raw) as SeriesWrite;
    for (const [f, n] of Object.entries(spec.i ?? {})) this.incs.set(f, (this.incs.get(f) ?? 0) + n);
    for (const [f, v] of Object.entries(spec.s ?? {})) if (!this.samples.has(f)) this.samples.set(f, v);
  }
}

/** One spec for a probe result's samples ('' when the probe carried none). */
export function sampleSpec(atMs: number, values: Partial<Record<SampleSeries, number | undefined>>, keepMinutes = SERIES_KEEP_MINUTES): string {
  const buf = new SeriesBuffer(keepMinutes);
  for (const name of SAMPLE_SERIES) {
    const v = values[name];
    if (v !== undefined) buf.sample(name, atMs, v);
  }
  return buf.take(atMs);
}

/** A host's recent minutes as arrays, oldest first (index i = minute `fromMinute + i`). */
export interface HostSeries {
  host: string;
  fromMinute: number;
  /** Number of minutes (the arrays' length). */
  minutes: number;
  refusals: Record<RefusalSeries, number[]>;
  samples: Record<SampleSeries, Array<number | undefined>>;
  markers: Record<MarkerSeries, number[]>;
}

/** An empty series of `minutes` minutes starting at `fromMinute`. */
export function emptySeries(host: string, fromMinute: number, minutes: number): HostSeries {
  const zeros = () => new Array<number>(minutes).fill(0);
  const holes = () => new Array<number | undefined>(minutes).fill(undefined);
  return {
    host,
    fromMinute,
    minutes,
    refusals: { tok: zeros(), rate: zeros(), orig: zeros(), oth: zeros() },
    samples: { mem: holes(), rss: holes() },
    markers: { rst: zeros(), fix: zeros() },
  };
}

/** Arrange stored hash fields (`<minute>:<series>` → value) into arrays for the `hours` ending at `now`. */
export function seriesFromFields(host: string, fields: Record<string, string>, now: number, hours: number): HostSeries {
  const minutes = Math.max(1, Math.round(hours * 60));
  const fromMinute = minuteOf(now) - minutes + 1;
  const out = emptySeries(host, fromMinute, minutes);
  for (const [field, raw] of Object.entries(fields)) {
    const sep = field.indexOf(':');
    if (sep <= 0) continue;
    const i = Number(field.slice(0, sep)) - fromMinute;
    if (!Number.isInteger(i) || i < 0 || i >= minutes) continue;
    const name = field.slice(sep + 1) as SeriesName;
    const v = Number(raw);
    if (!Number.isFinite(v)) continue;
    if ((REFUSAL_SERIES as readonly string[]).includes(name)) out.refusals[name as RefusalSeries][i] = v;
    else if ((SAMPLE_SERIES as readonly string[]).includes(name)) out.samples[name as SampleSeries][i] = v;
    else if ((MARKER_SERIES as readonly string[]).includes(name)) out.markers[name as MarkerSeries][i] = v;
  }
  return out;
}

/** Read a host's series for the `hours` ending at `now` (one HGETALL). */
export async function readHostSeries(redis: RedisClient, keys: KeySpace, host: string, now: number, hours: number): Promise<HostSeries> {
  const fields = await redis.hgetall(keys.series(host));
  return seriesFromFields(host, fields, now, hours);
}
