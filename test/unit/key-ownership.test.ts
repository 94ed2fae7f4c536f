/**
 * Issue 15 item 2: src/state owns every Redis key. No file under src/ outside src/state builds one (see
 * test/support/key-ownership.ts for what counts); they all take their keys from KeySpace. And no key's lifetime is a
 * number written where it is set: each is a named constant (TTL) or a setting, passed into Lua as an argument.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyViolations, ttlViolations } from '../support/key-ownership.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SRC = path.join(ROOT, 'src');
const STATE = path.join(SRC, 'state');

function sourceFiles(dir: string, skip?: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return p === skip ? [] : sourceFiles(p, skip);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

describe('Redis keys are built in src/state only', () => {
  it('no file under src/ outside src/state builds a key', () => {
    const files = sourceFiles(SRC, STATE);
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((f) => keyViolations(path.relative(ROOT, f), readFileSync(f, 'utf8')));
    expect(found.map((v) => `${v.file}:${v.line} ${v.rule}: ${v.text}`)).toEqual([]);
  });

  it('no key under src/ (src/state included) gets a lifetime written as a number, in code or in Lua', () => {
    const found = sourceFiles(SRC).flatMap((f) => ttlViolations(path.relative(ROOT, f), readFileSync(f, 'utf8')));
    expect(found.map((v) => `${v.file}:${v.line}: ${v.text}`)).toEqual([]);
  });

  // Each line below is how a key was built before the state layer (taken from the code it replaced): the
  // checker must see every one, or the test above would pass anything.
  it.each([
    ['a template on the prefix', 'const k = (prefix: string, id: string) => `${prefix}:fixdone:${id}`;', 'prefix-built'],
    ['a template on this.prefix', 'class A { key(h: string) { return `${this.prefix}:inflight:fix:${h}`; } }', 'prefix-built'],
    ['a template on deps.prefix', 'const startedKey = `${deps.prefix}:fixstarted:${jobId}`;', 'prefix-built'],
    ['a concatenation on the prefix', "const k = prefix + ':seq:' + id;", 'prefix-built'],
    ['the hash tag', 'const p = redis.cluster ? `{${redis.keyPrefix}}` : redis.keyPrefix;', 'prefix-built'],
    ['an inline key in a command', "await redis.set(`clawmedic:monitor:blind`, id, 'EX', 300, 'NX');", 'inline-key'],
    ['an inline key in a MULTI', "await this.redis.multi().incr('clawmedic:seq:x').exec();", 'inline-key'],
    ['an inline key in a script call', "await opts.redis.eval(ADVANCE_SEQ, 1, 'c:shownseq:' + k, String(seq));", 'inline-key'],
    ['an inline key in a local', "const key = 'clawmedic:hostwait:' + id; await redis.set(key, '1');", 'inline-key'],
    ['a literal BullMQ prefix', "new Queue('fix', { connection, prefix: 'clawmedic' });", 'literal-prefix'],
    ['a literal rate-limiter prefix', "new RateLimiterRedis({ storeClient: redis, keyPrefix: 'clawmedic:limit:chat', points: 1 });", 'literal-prefix'],
  ])('the checker sees %s', (_what, code, rule) => {
    expect(keyViolations('x.ts', code).map((v) => v.rule)).toContain(rule);
  });

  // And how lifetimes were written (the Lua one is the notify worker's, before it took its TTL as an argument).
  it.each([
    ['EX with a product', "await redis.set(key, '1', 'EX', 7 * 86400, 'NX');"],
    ['PX with a number', "await redis.set(key, '1', 'PX', 60000);"],
    ['expire in a MULTI', 'await this.redis.multi().incr(key).expire(key, 24 * 3600).exec();'],
    ['pexpire in a MULTI', 'await redis.multi().zadd(key, now, id).pexpire(key, 3600_000).exec();'],
    ['a number in Lua', "const LUA = `redis.call('SET', KEYS[1], ARGV[1], 'EX', 604800)`;"],
  ])('the checker sees a lifetime written as a number: %s', (_what, code) => {
    expect(ttlViolations('x.ts', code).map((v) => v.rule)).toEqual(['literal-ttl']);
  });

  it('keys from KeySpace pass', () => {
    const code = [
      "await redis.set(keys.fixStarted(jobId), String(Date.now()), 'EX', TTL.fixMarkerSec, 'NX');",
      'const key = this.keys.messageSeq(d.messageKey); await this.redis.multi().incr(key).expire(key, TTL.messageSeqSec).exec();',
      'await opts.redis.eval(ADVANCE_SEQ, 1, opts.keys.shownSeq(d.messageKey), String(d.seq), String(TTL.messageSeqSec));',
      "new Queue('fix', { connection, prefix: keys.prefix });",
      "new RateLimiterRedis({ storeClient: redis, keyPrefix: keys.limitPrefix('chat'), points: 1 });",
      // Not Redis: a map's get with a string, a rendered block's prefix.
      "const v = cache.get('a:b'); const html = block.prefix + text;",
    ].join('\n');
    expect(keyViolations('x.ts', code)).toEqual([]);
    expect(ttlViolations('x.ts', code + "\nconst LUA = `redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))`;")).toEqual([]);
  });
});
