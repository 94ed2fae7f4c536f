/**
 * Live-log side of the monitor on real OpenClaw lines: signals from the 4008 ↔ 1008 join, benign
 * noise ignored, the resume filter, line times, and the dated-log follow script run by a real sh.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLogLine } from '../../src/openclaw/log-parser.js';
import { SignalExtractor, type Signal } from '../../src/monitor/signals.js';
import { connKey } from '../../src/domain/incident.js';
import { randomUUID } from 'node:crypto';
import { ResumeFilter, lineHash } from '../../src/monitor/follower.js';
import { buildFollowScript, followModeFor, lineTime } from '../../src/monitor/follow-script.js';
import type { HostConfig } from '../../src/domain/host.js';

const FX = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/standin/samples');
const lines = (f: string) => readFileSync(path.join(FX, f), 'utf8').split('\n').filter(Boolean);

function signalsOf(file: string): Signal[] {
  const x = new SignalExtractor();
  const out: Signal[] = [];
  for (const l of lines(file)) {
    const e = parseLogLine(l);
    if (e) out.push(...x.ingest(e, Date.parse('2026-11-25T16:00:00Z')));
  }
  return out;
}

const host: HostConfig = {
  name: 'prod',
  ssh: { host: '127.0.0.1', port: 22, user: 'claw', hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` },
  install: 'native',
  supervisor: { kind: 'systemd-user', unit: 'openclaw-gateway.service' },
  openclaw: { bin: 'openclaw' },
  gateway: { port: 18789 },
  allowKillPortOwner: false,
  autoFix: false,
};

describe('signals from real log lines', () => {
  it('a stale tab loop: every 4008 joined to its token_mismatch, one client, conn ids for dedupe', () => {
    const s = signalsOf('log-stale-tab-loop.jsonl');
    expect(s.length).toBeGreaterThanOrEqual(10);
    expect(new Set(s.map((x) => x.family))).toEqual(new Set(['token_mismatch']));
    expect(new Set(s.map((x) => x.clientKey)).size).toBe(1);
    expect(new Set(s.map((x) => x.dedupe)).size).toBe(s.length);
    expect(s[0]!.evidence).toContain('token_mismatch');
    expect(s[0]!.evidence).toContain('code=4008');
  });

  it('a token rotation (4001 gateway auth changed) marks the failures after it', () => {
    const s = signalsOf('log-token-rotated-while-connected.jsonl');
    expect(s.length).toBeGreaterThan(0);
    expect(s.every((x) => x.mark === 'rotation')).toBe(true);
  });

  it('rate-limited clients get their own family', () => {
    expect(signalsOf('log-rate-limited.jsonl').some((x) => x.family === 'rate_limited')).toBe(true);
  });

  it('benign noise is ignored: CLI probe 1008, internal channel check, 1013 while starting', () => {
    expect(signalsOf('log-host-cli-probe-wrong-token.jsonl')).toEqual([]);
    expect(signalsOf('derived/log-internal-token-mismatch.stdout.txt')).toEqual([]);
    expect(signalsOf('derived/log-gateway-starting-1013.stdout.txt')).toEqual([]);
    expect(signalsOf('log-crash-restart.jsonl')).toEqual([]);
  });

  it('text (stdout/journal) lines work like the file log', () => {
    const s = signalsOf('log-wrong-token.stdout.txt');
    expect(s.map((x) => x.family)).toContain('token_mismatch');
    expect(signalsOf('derived/log-insecure-context.stdout.txt')[0]?.family).toBe('insecure_context');
  });
});

describe('resume position', () => {
  const a = lines('log-stale-tab-loop.jsonl');
  it('skips lines already processed after a reconnect, then takes everything new', () => {
    const f = new ResumeFilter(undefined);
    const first = a.slice(0, 10).filter((l) => f.accept(l));
    expect(first).toHaveLength(10);
    const pos = structuredClone(f.position)!;
    expect(pos.hashes).toContain(lineHash(a[9]!));
    const again = new ResumeFilter(pos);
    // the reconnect replays the tail (lines 5..20): only 10..20 are new
    expect(a.slice(5, 20).filter((l) => again.accept(l))).toEqual(a.slice(10, 20));
  });

  it('reads times from JSON lines, stdout lines and docker --timestamps prefixes', () => {
    expect(lineTime(a[0]!)).toBe(Date.parse(JSON.parse(a[0]!).time as string));
    expect(lineTime('2026-11-25T15:01:30.890+00:00 [ws] unauthorized conn=x')).toBe(Date.parse('2026-11-25T15:01:30.890Z'));
    expect(lineTime('2026-11-25T15:01:30.123456789Z 2026-11-25T15:01:30.120+00:00 [ws] x')).toBe(Date.parse('2026-11-25T15:01:30.123Z'));
    expect(lineTime('no time here')).toBeUndefined();
  });
});

describe('follow scripts', () => {
  it('docker hosts use docker logs with --since when resuming; never `openclaw logs`', () => {
    const d = { ...host, install: 'docker' as const, container: 'openclaw-openclaw-1', supervisor: { kind: 'docker' as const, container: 'openclaw-openclaw-1' } };
    expect(followModeFor(d)).toBe('docker');
    expect(buildFollowScript(d, { backlogLines: 100, rollCheckSec: 30 })).toContain("docker logs -f --timestamps --tail 100 -- openclaw-openclaw-1");
    expect(buildFollowScript(d, { backlogLines: 100, rollCheckSec: 30, resume: { ms: Date.parse('2026-11-25T15:00:00Z'), hashes: [] } })).toMatch(/--since '?2026-11-25T14:59:59.000Z'?/);
    const native = buildFollowScript(host, { backlogLines: 100, rollCheckSec: 30 });
    expect(native).toContain('tail -n "$(_cm_start "$_cm_cur")" -F');
    expect(native).toMatch(/else echo 100; fi/); // no resume position: the last 100 lines
    expect(native).toContain('journalctl --user --unit=');
    expect(native).not.toMatch(/openclaw'? logs/);
  });

  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('follows the dated file log across midnight (a newer dated file appears)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'clawmedic-follow-'));
    dirs.push(dir);
    const day1 = path.join(dir, 'openclaw-2026-11-25.log');
    await writeFile(day1, 'old line\n');
    const script = buildFollowScript({ ...host, supervisor: { kind: 'commands', start: 'true', stop: 'true' } }, { logFile: day1, backlogLines: 1, rollCheckSec: 1 });
    const child = spawn('sh', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    const got: string[] = [];
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => got.push(...c.split('\n').filter(Boolean)));
    const waitFor = async (s: string) => {
      for (let i = 0; i < 100 && !got.includes(s); i++) await new Promise((r) => setTimeout(r, 50));
      expect(got).toContain(s);
    };
    try {
      await waitFor('old line');
      await appendFile(day1, 'day one\n');
      await waitFor('day one');
      const day2 = path.join(dir, 'openclaw-2026-11-26.log');
      await writeFile(day2, 'first of day two\n');
      await waitFor(`@@CLAWMEDIC logfile=${day2}`);
      await waitFor('first of day two');
      await appendFile(day2, 'more of day two\n');
      await waitFor('more of day two');
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
    }
  }, 15_000);
});

describe('follow script resume', () => {
  const resumeDirs: string[] = [];
  afterAll(async () => {
    for (const d of resumeDirs) await rm(d, { recursive: true, force: true });
  });

  it('replays every line since the saved position, however many came while disconnected', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'clawmedic-resume-'));
    resumeDirs.push(dir);
    const file = path.join(dir, 'openclaw-2026-11-25.log');
    const t0 = Date.parse('2026-11-25T10:00:00.000Z');
    // 1 000 file-log lines, one per 100 ms; the saved position is line 200's time.
    const lines = Array.from({ length: 1000 }, (_, i) => `{"1":"line ${i + 1}","_meta":{"date":"${new Date(t0 + i * 100).toISOString()}"},"time":"${new Date(t0 + i * 100).toISOString()}"}`);
    await writeFile(file, `${lines.join('\n')}\n`);
    const resume = { ms: t0 + 199 * 100, hashes: [] };
    const script = buildFollowScript({ ...host, supervisor: { kind: 'commands', start: 'true', stop: 'true' } }, { logFile: file, backlogLines: 300, rollCheckSec: 60, resume });
    const child = spawn('sh', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    const got: string[] = [];
    child.stdout.setEncoding('utf8');
    let buf = '';
    child.stdout.on('data', (c: string) => {
      buf += c;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      got.push(...parts.filter((l) => l && !l.startsWith('@@')));
    });
    try {
      for (let i = 0; i < 100 && !got.some((l) => l.includes('"line 1000"')); i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
    }
    // From 1 s before the position (line 190) to the end: 811 lines, more than the 300-line backlog.
    expect(got[0]).toContain('"line 190"');
    expect(got).toHaveLength(811);
  }, 15_000);
});

describe('connKey', () => {
  it('is a safe integer, the same for the same id, and tells 200 000 conn ids apart', () => {
    const ids = Array.from({ length: 200_000 }, () => randomUUID());
    const keys = new Set<number>();
    // One assertion over all keys: an expect() per id made this take seconds on a loaded machine.
    let unsafe = 0;
    for (const id of ids) {
      const k = connKey(id);
      if (!(Number.isSafeInteger(k) && k >= 0)) unsafe += 1;
      keys.add(k);
    }
    expect(unsafe).toBe(0);
    expect(keys.size).toBe(ids.length);
    expect(connKey(ids[0]!)).toBe(connKey(`${ids[0]!}`));
    // Ids that differ only at the end or by length (sequential ids) are told apart too.
    expect(new Set(['conn-1', 'conn-2', 'conn-10', 'conn-01', 'conn-1 '].map(connKey)).size).toBe(5);
  }, 30_000);
});
