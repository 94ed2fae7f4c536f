/**
 * The latest probe result of each host, stored by whichever process ran the probe (src/jobs/probe.ts)
 * and read by the process that follows the host (src/monitor/host-monitor.ts).
 */
import type { RedisClient } from './redis.js';
import type { Cause } from '../domain/diagnosis.js';
import { SERIES_LUA } from './host-series.js';
import type { KeySpace } from './key-space.js';

/** The latest probe of a host, as stored in Redis. */
export interface ProbeResult {
  /** Increases with every stored result (the owner applies each once). */
  seq: number;
  at: number;
  reachable: boolean;
  probeOk: boolean;
  /** The incident family a failed probe points to. */
  family?: Cause;
  /** Short redacted text: the probe error or why SSH failed. */
  detail: string;
  consecutiveFailures: number;
  consecutiveUnreachable: number;
}

/** What the prober knows of one result; the counts and seq are computed where it is stored. */
export interface ProbeOutcome {
  at: number;
  reachable: boolean;
  probeOk: boolean;
  family: Cause | undefined;
  detail: string;
}

/**
 * Store a result and compute consecutive counts atomically (two probes of a host may overlap); the memory
 * samples go into the host's series (KEYS[2], ARGV[2]: state/host-series.ts) in the same call.
 */
const RECORD = `${SERIES_LUA}
series_write(KEYS[2], ARGV[2])
local old = redis.call('GET', KEYS[1])
local o = {}
if old then o = cjson.decode(old) end
local r = cjson.decode(ARGV[1])
if r['reachable'] then
  r['consecutiveUnreachable'] = 0
  if r['probeOk'] then r['consecutiveFailures'] = 0 else r['consecutiveFailures'] = (o['consecutiveFailures'] or 0) + 1 end
else
  r['consecutiveUnreachable'] = (o['consecutiveUnreachable'] or 0) + 1
  r['consecutiveFailures'] = o['consecutiveFailures'] or 0
end
r['seq'] = (o['seq'] or 0) + 1
local out = cjson.encode(r)
redis.call('SET', KEYS[1], out)
return out`;

/** Store one outcome as the host's latest probe result (with its series samples); returns it with counts and seq. */
export async function storeProbe(redis: RedisClient, keys: KeySpace, host: string, o: ProbeOutcome, samples: string): Promise<ProbeResult> {
  const partial = { ...o, family: o.family ?? null };
  const out = (await redis.eval(RECORD, 2, keys.probe(host), keys.series(host), JSON.stringify(partial), samples)) as string;
  const r = JSON.parse(out) as ProbeResult & { family: Cause | null };
  return { ...r, family: r.family ?? undefined };
}

/** Latest probe results of `hosts` (undefined where none yet). */
export async function readProbes(redis: RedisClient, keys: KeySpace, hosts: string[]): Promise<Array<ProbeResult | undefined>> {
  if (hosts.length === 0) return [];
  const raws = await redis.mget(...hosts.map((h) => keys.probe(h)));
  return raws.map((r) => {
    if (!r) return undefined;
    const p = JSON.parse(r) as ProbeResult & { family: Cause | null };
    return { ...p, family: p.family ?? undefined };
  });
}
