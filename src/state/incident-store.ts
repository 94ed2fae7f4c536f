/**
 * Incidents in Redis: one hash per incident and a set of open incident ids per host, written
 * together with the follower's resume position in one script that first checks the host's lease
 * (fencing), so a process that lost a host can never overwrite what the new owner wrote.
 */
import type { RedisClient } from './redis.js';
import { MONITOR_DEFAULTS } from '../constants.js';
import type { Incident } from '../domain/incident.js';
import { SERIES_LUA } from './host-series.js';
import { connKey } from '../domain/incident.js';
import { TTL, type KeySpace } from './key-space.js';

/** An incident as stored; one saved before conn ids became numbers still counts its replays once. */
function fromStored(raw: string): Incident {
  const inc = JSON.parse(raw) as Incident & { seenConns: Array<number | string> };
  inc.seenConns = inc.seenConns.map((c) => (typeof c === 'string' ? connKey(c) : c));
  return inc;
}

/** Where a follower resumes: the time of the last line it processed and hashes of the lines with that time. */
export interface ResumePosition {
  ms: number;
  hashes: string[];
}

/**
 * KEYS: lease, open set, resume key, series key, then one hash key per incident.
 * ARGV: process id, resume JSON ('' = leave), resolved TTL seconds, lease ms, series write ('' = none),
 * then per incident: op ('open'|'done'), JSON.
 * A lease that merely expired (nobody took it: a slow renewal round, a Redis hiccup) is taken back
 * here instead of dropping the host and re-adopting it from older state (lost lines, repeated alerts).
 * The per-minute series of the host (state/host-series.ts) is written here too: fenced like the rest, no extra round trip.
 */
const SAVE = `${SERIES_LUA}
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[4]))
elseif holder ~= ARGV[1] then
  return 0
end
if ARGV[2] ~= '' then redis.call('SET', KEYS[3], ARGV[2]) end
series_write(KEYS[4], ARGV[5])
local n = #KEYS - 4
for i = 1, n do
  local key = KEYS[4 + i]
  local op = ARGV[4 + 2 * i]
  local json = ARGV[5 + 2 * i]
  local d = cjson.decode(json)
  local id = d['id']
  redis.call('HSET', key, 'data', json, 'phase', d['phase'], 'host', d['host'], 'cause', d['cause'])
  if op == 'open' then
    redis.call('PERSIST', key)
    redis.call('SADD', KEYS[2], id)
  else
    redis.call('EXPIRE', key, tonumber(ARGV[3]))
    redis.call('SREM', KEYS[2], id)
  end
end
return 1`;

export class IncidentStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {}

  incidentKey(id: string): string {
    return this.keys.incident(id);
  }

  openSetKey(host: string): string {
    return this.keys.openIncidents(host);
  }

  resumeKey(host: string): string {
    return this.keys.resume(host);
  }

  leaseKey(host: string): string {
    return this.keys.lease(host);
  }

  /** Open incidents of `host` (suspect, firing, or resolved within the flap window). */
  async loadOpen(host: string): Promise<Incident[]> {
    const ids = await this.redis.smembers(this.openSetKey(host));
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hget(this.incidentKey(id), 'data');
    const rows = (await pipe.exec()) ?? [];
    const out: Incident[] = [];
    for (const [err, raw] of rows) {
      if (!err && typeof raw === 'string') out.push(fromStored(raw));
    }
    return out;
  }

  /** One incident by id (open or recently done). */
  async get(id: string): Promise<Incident | undefined> {
    const raw = await this.redis.hget(this.incidentKey(id), 'data');
    return raw ? fromStored(raw) : undefined;
  }

  async loadResume(host: string): Promise<ResumePosition | undefined> {
    const raw = await this.redis.get(this.resumeKey(host));
    return raw ? (JSON.parse(raw) as ResumePosition) : undefined;
  }

  /**
   * Save changed incidents (and the resume position) if `processId` still holds the host's lease.
   * Returns false when the lease is someone else's: the caller must stop following the host.
   */
  /** Lease period, for taking back an expired, untaken lease while saving. */
  leaseMs: number = MONITOR_DEFAULTS.leaseMs;

  async save(
    host: string,
    processId: string,
    changes: Array<{ incident: Incident; done: boolean }>,
    resume: ResumePosition | undefined,
    /** A series write spec of state/host-series.ts ('' = none). */
    series = '',
  ): Promise<boolean> {
    const keys = [this.leaseKey(host), this.openSetKey(host), this.resumeKey(host), this.keys.series(host), ...changes.map((c) => this.incidentKey(c.incident.id))];
    const args: string[] = [processId, resume ? JSON.stringify(resume) : '', String(TTL.resolvedIncidentSec), String(this.leaseMs), series];
    for (const c of changes) args.push(c.done ? 'done' : 'open', JSON.stringify(c.incident));
    const ok = await this.redis.eval(SAVE, keys.length, ...keys, ...args);
    return ok === 1;
  }
}
