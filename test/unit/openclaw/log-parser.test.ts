import { describe, expect, it } from 'vitest';
import { parseLog, parseLogLine } from '../../../src/openclaw/log-parser.js';
import type { LogEvent } from '../../../src/openclaw/evidence-types.js';
import { fx, fxLines } from './helpers.js';

function kinds(evs: LogEvent[]): string[] {
  return evs.map((e) => e.kind);
}
function only<K extends LogEvent['kind']>(evs: LogEvent[], kind: K): Extract<LogEvent, { kind: K }>[] {
  return evs.filter((e): e is Extract<LogEvent, { kind: K }> => e.kind === kind);
}

describe('parseLog: wrong token (2026.9.6)', () => {
  // Sample: log-wrong-token.jsonl (file log) and .stdout.txt (gateway stdout), same connects.
  it('reads the unauthorized + closed-before-connect pair from the file log (JSON)', () => {
    const evs = parseLog(fx('log-wrong-token.jsonl'));
    expect(kinds(evs)).toEqual(['unauthorized', 'closed_before_connect']);
    const [u, c] = evs as [Extract<LogEvent, { kind: 'unauthorized' }>, Extract<LogEvent, { kind: 'closed_before_connect' }>];
    expect(u.conn).toBe('0e45c253-3d77-43ee-9d47-67d906a67b2d');
    expect(u.reason).toBe('token_mismatch');
    expect(u.client).toEqual({ id: 'webchat-ui', mode: 'webchat', version: '2026.9.6' });
    expect(u.origin).toBe('http://127.0.0.1:18789');
    expect(u.remote).toBe('127.0.0.1');
    expect(u.device).toBe(false);
    expect(u.time).toBe('2026-11-25T15:01:30.887+00:00');
    expect(u.ms).toBe(Date.parse('2026-11-25T15:01:30.887Z'));
    expect(c.conn).toBe(u.conn);
    expect(c.code).toBe(4008);
    expect(c.reason).toBe('connect failed');
    expect(c.cause).toBe('unauthorized');
    expect(c.phase).toBe('auth_credentials_received');
    expect(c.authReason).toBe('token_mismatch');
    expect(c.client).toEqual({ id: 'webchat-ui', mode: 'webchat', version: '2026.9.6' });
    expect(c.hasDeviceIdentity).toBe(false);
  });

  it('reads the same from stdout text, including the structured tail of the 2026.9 line', () => {
    const evs = parseLog(fx('log-wrong-token.stdout.txt'));
    expect(kinds(evs)).toEqual(['unauthorized', 'closed_before_connect', 'unauthorized', 'closed_before_connect']);
    const c = only(evs, 'closed_before_connect')[1]!;
    expect(c.conn).toBe('afe4c7d2-6845-4067-bd17-817415ef5572');
    expect(c.authReason).toBe('token_mismatch');
    expect(c.origin).toBe('http://127.0.0.1:18789');
    expect(c.time).toBe('2026-11-25T15:01:31.226+00:00');
  });

  it('keeps a 1008 reason with spaces and colons whole (CLI probe)', () => {
    // Sample: log-host-cli-probe-wrong-token.stdout.txt
    const c = only(parseLog(fx('log-host-cli-probe-wrong-token.stdout.txt')), 'closed_before_connect')[0]!;
    expect(c.code).toBe(1008);
    expect(c.reason).toBe('unauthorized: gateway token mismatch (provide gateway auth token)');
    expect(c.client).toEqual({ id: 'cli', mode: 'probe', version: 'dev' });
    expect(c.origin).toBeUndefined();
  });
});

describe('parseLog: 2026.4.29', () => {
  it('stdout lacks phase/cause/authReason; the file log keeps them in field "1"', () => {
    // Samples: 2026.4/log-wrong-token.stdout.txt and .jsonl
    const text = only(parseLog(fx('2026.4/log-wrong-token.stdout.txt')), 'closed_before_connect')[0]!;
    expect(text.code).toBe(4008);
    expect(text.authReason).toBeUndefined();
    expect(text.cause).toBeUndefined();
    const json = only(parseLog(fx('2026.4/log-wrong-token.jsonl')), 'closed_before_connect')[0]!;
    expect(json.conn).toBe('671b7f1c-d017-4fe6-ac7d-c445d019e61c');
    expect(json.authReason).toBe('token_mismatch');
    expect(json.cause).toBe('unauthorized');
    expect(json.client.id).toBe('webchat-ui');
    const u = only(parseLog(fx('2026.4/log-wrong-token.stdout.txt')), 'unauthorized')[0]!;
    expect(u.reason).toBe('token_mismatch'); // no guidance= on 2026.4
  });

  it('finds the plugin failures and the ready line of a 2026.4 start', () => {
    // Sample: 2026.4/log-gateway-start.stdout.txt
    const evs = parseLog(fx('2026.4/log-gateway-start.stdout.txt'));
    expect(evs[0]!.kind).toBe('starting');
    expect(evs[evs.length - 1]!.kind).toBe('ready');
    const plugins = new Set(only(evs, 'plugin_failure').map((e) => e.plugin));
    expect([...plugins].sort()).toEqual(['acpx', 'bonjour', 'browser', 'device-pair', 'file-transfer', 'memory-core', 'phone-control', 'talk-voice']);
  });
});

describe('parseLog: lifecycle and failures', () => {
  it('token rotation: reload, 4001 gateway auth changed, then 4008s', () => {
    // Sample: log-token-rotated-while-connected.stdout.txt
    const evs = parseLog(fx('log-token-rotated-while-connected.stdout.txt'));
    expect(kinds(evs).slice(0, 5)).toEqual(['webchat_connected', 'reload', 'webchat_disconnected', 'reload', 'unauthorized']);
    const r = only(evs, 'reload');
    expect(r.map((e) => [e.phase, e.keys])).toEqual([
      ['detected', ['gateway.auth.token']],
      ['applied', ['gateway.auth.token']],
    ]);
    const d = only(evs, 'webchat_disconnected')[0]!;
    expect([d.code, d.reason, d.conn]).toEqual([4001, 'gateway auth changed', 'aeeb5867-1d6c-4e08-ac7d-449de5de4647']);
  });

  it('the same rotation in the file log (JSON, subsystem gateway/reload)', () => {
    const evs = parseLog(fx('log-token-rotated-while-connected.jsonl'));
    expect(only(evs, 'reload')).toHaveLength(2);
    expect(only(evs, 'closed_before_connect').map((e) => e.code)).toEqual([4008, 4008, 4008, 4008]);
  });

  it('auto-restore of the config (gateway.mode missing)', () => {
    // Sample: log-mode-unset-autorestored.jsonl
    const e = only(parseLog(fx('log-mode-unset-autorestored.jsonl')), 'config_autorestored')[0]!;
    expect(e.reason).toBe('gateway-mode-missing-vs-last-good');
    expect(e.path).toBe('/home/claw/.openclaw/openclaw.json');
  });

  it('plugin failure lines of both subsystems name the plugin', () => {
    // Sample: log-plugin-load-failed.jsonl
    const evs = only(parseLog(fx('log-plugin-load-failed.jsonl')), 'plugin_failure');
    expect(evs.map((e) => e.plugin)).toEqual(['broken-fixture', 'broken-fixture']);
    expect(evs[0]!.error).toBe('Error: broken-fixture: intentional load failure');
    expect(evs[1]!.source).toBe('/home/claw/broken-plugin/index.js');
  });

  it('port conflict: EADDRINUSE start failure, and the clean shutdown before it', () => {
    // Sample: log-port-conflict.jsonl (whole minute incl. CLI lines) and log-port-conflict.txt
    for (const f of ['log-port-conflict.jsonl', 'log-port-conflict.txt']) {
      const evs = parseLog(fx(f));
      expect(kinds(evs)).toEqual(['starting', 'shutdown', 'port_conflict']);
      expect(only(evs, 'port_conflict')[0]!.port).toBe(18789);
    }
  });

  it('second gateway: StateDatabaseCoordinatorContentionError start failure', () => {
    // Samples: log-second-gateway-run.jsonl / .txt
    expect(kinds(parseLog(fx('log-second-gateway-run.jsonl')))).toEqual(['second_gateway']);
    expect(kinds(parseLog(fx('log-second-gateway-run.txt')))).toEqual(['second_gateway']);
  });

  it('heap OOM from stderr; a crash leaves no line', () => {
    // Samples: log-oom-heap-limit-128m.txt, log-oom-cgroup-350m.txt, log-crash-restart.stdout.txt
    expect(kinds(parseLog(fx('log-oom-heap-limit-128m.txt')))).toEqual(['starting', 'heap_oom']);
    expect(kinds(parseLog(fx('log-oom-cgroup-350m.txt')))).toEqual(['starting']);
    expect(kinds(parseLog(fx('log-crash-restart.stdout.txt')))).toEqual(['webchat_connected', 'webchat_disconnected', 'starting', 'ready']);
  });

  it('clean SIGTERM shutdown (derived from the ops doc + a real shutdown line)', () => {
    const evs = only(parseLog(fx('derived/log-sigterm.stdout.txt')), 'shutdown');
    expect(evs.map((e) => e.phase)).toEqual(['sigterm', 'completed']);
  });

  it('kernel OOM (journal short-iso), telegram 409 and mode-blocked (derived)', () => {
    const k = only(parseLog(fx('derived/kernel-oom-journal.txt')), 'kernel_oom')[0]!;
    expect([k.pid, k.process, k.openclaw]).toEqual([28963, 'openclaw-gatewa', true]);
    expect(k.ms).toBe(Date.parse('2026-11-25T15:26:34Z'));
    expect(kinds(parseLog(fx('derived/log-telegram-409.stdout.txt')))).toEqual(['telegram_conflict']);
    expect(kinds(parseLog(fx('derived/log-mode-blocked.stdout.txt')))).toEqual(['starting', 'mode_blocked']);
  });

  it('reads lines behind a journal prefix and dmesg stamps', () => {
    const line = fx('log-wrong-token.stdout.txt').split('\n')[1]!;
    const e = parseLogLine(`2026-11-25T15:01:30+0000 vm openclaw[21774]: ${line}`);
    expect(e?.kind).toBe('closed_before_connect');
    expect(e?.time).toBe('2026-11-25T15:01:30.902+00:00');
    const k = parseLogLine('[12345.678901] Out of memory: Killed process 28963 (node) total-vm:1kB');
    expect(k).toMatchObject({ kind: 'kernel_oom', pid: 28963, process: 'node', openclaw: true });
    expect(parseLogLine('[12345.678901] Out of memory: Killed process 77 (postgres)')).toMatchObject({ openclaw: false });
  });

  it('skips everything else', () => {
    expect(parseLogLine('2026-11-25T15:07:50.352+00:00 [gateway] agent model: openai/gpt-6-astra')).toBeNull();
    expect(parseLogLine('')).toBeNull();
    expect(parseLogLine('{"not":"a log line"}')).toBeNull();
    expect(parseLogLine('{broken json "message":"unauthorized conn=')).toBeNull();
  });
});

describe('parseLog on a large log', () => {
  // Its speed (lines/s, against a baseline in the same run) is measured by bench/log-parser.ts, not asserted here.
  it('parses a 100k-line log built from real sample lines into the events they hold', () => {
    const src = fxLines(
      'log-wrong-token.jsonl',
      'log-wrong-token.stdout.txt',
      'log-stale-tab-loop.jsonl',
      'log-stale-tab-loop.stdout.txt',
      'log-crash-restart.jsonl',
      'log-port-conflict.jsonl',
      'log-plugin-load-failed.stdout.txt',
      'log-token-rotated-while-connected.jsonl',
      '2026.4/log-wrong-token.jsonl',
      '2026.4/log-gateway-start.stdout.txt',
    ).split('\n');
    const lines: string[] = [];
    for (let i = 0; lines.length < 100_000; i++) lines.push(src[i % src.length]!);
    const events = parseLog(lines.join('\n'));
    const perCycle = parseLog(src.join('\n')).length;
    // Parsing is line-local: the big log holds each source line's events as many times as the line repeats (±1 cycle).
    const cycles = 100_000 / src.length;
    expect(events.length).toBeGreaterThan(30_000);
    expect(Math.abs(events.length - perCycle * cycles)).toBeLessThanOrEqual(perCycle);
  }, 30_000);
});
