/**
 * KeySpace names every Redis key. The names are those earlier releases wrote (an upgrade must find the data of a
 * running Redis), the hash tag keeps every key in one slot on a Cluster, and each TTL is one named constant.
 */
import { describe, expect, it } from 'vitest';
import { KeySpace, TTL } from '../../src/state/key-space.js';
import { parseConfigText } from '../../src/config/load-config.js';

/** Every name, with the string the code before KeySpace built for prefix `p` (copied from that code). */
const NAMES: Array<[string, (k: KeySpace) => string, (p: string) => string]> = [
  ['button', (k) => k.button('tok'), (p) => `${p}:btn:tok`],
  ['inflight', (k) => k.inflight('fix', 'prod'), (p) => `${p}:inflight:fix:prod`],
  ['inflightSubscribers', (k) => k.inflightSubscribers('j1'), (p) => `${p}:subs:j1`],
  ['fixAttempts', (k) => k.fixAttempts('prod'), (p) => `${p}:fixattempts:prod`],
  ['autoFixes', (k) => k.autoFixes('prod'), (p) => `${p}:monitor:autofix:prod`],
  // host-lock.ts was given `${prefix}:` and appended `lock:host:<host>`.
  ['hostLock', (k) => k.hostLock('prod'), (p) => `${p}:lock:host:prod`],
  ['hostWait', (k) => k.hostWait('j1'), (p) => `${p}:hostwait:j1`],
  ['fixStarted', (k) => k.fixStarted('j1'), (p) => `${p}:fixstarted:j1`],
  ['fixDone', (k) => k.fixDone('j1'), (p) => `${p}:fixdone:j1`],
  ['fixRun', (k) => k.fixRun('j1'), (p) => `${p}:fixrun:j1`],
  ['fixRunIndex', (k) => k.fixRunIndex(), (p) => `${p}:fixrun:index`],
  ['fixRunRecovering', (k) => k.fixRunRecovering('j1'), (p) => `${p}:fixrun:j1:recovering`],
  ['fixRunRecovered', (k) => k.fixRunRecovered('j1'), (p) => `${p}:fixrun:j1:recovered`],
  ['heartbeat', (k) => k.heartbeat('h:1:ab'), (p) => `${p}:hb:h:1:ab`],
  ['statusSlots', (k) => k.statusSlots('telegram', '-100'), (p) => `${p}:status-slots:telegram:-100`],
  ['limitPrefix person', (k) => k.limitPrefix('person'), (p) => `${p}:limit:person`],
  ['limitPrefix chat', (k) => k.limitPrefix('chat'), (p) => `${p}:limit:chat`],
  ['limitPrefix told-unknown', (k) => k.limitPrefix('told-unknown'), (p) => `${p}:limit:told-unknown`],
  ['limitPrefix told-limited', (k) => k.limitPrefix('told-limited'), (p) => `${p}:limit:told-limited`],
  ['silencedRefusals', (k) => k.silencedRefusals('unknown', 'telegram:42'), (p) => `${p}:limit:silenced-unknown:telegram:42`],
  ['audit', (k) => k.audit(), (p) => `${p}:audit`],
  ['audit of a host', (k) => k.audit('prod'), (p) => `${p}:audit:host:prod`],
  ['messageSeq', (k) => k.messageSeq('job:j1'), (p) => `${p}:seq:job:j1`],
  ['shownSeq', (k) => k.shownSeq('job:j1'), (p) => `${p}:shownseq:job:j1`],
  ['messageRef', (k) => k.messageRef('discord', 'job:j1'), (p) => `${p}:msgref:discord:job:j1`],
  ['messageRefSecret', (k) => k.messageRefSecret('discord', 'job:j1'), (p) => `${p}:msgsecret:discord:job:j1`],
  ['consoleChannel', (k) => k.consoleChannel('local-ab'), (p) => `${p}:console:local-ab`],
  ['incident', (k) => k.incident('i1'), (p) => `${p}:incident:i1`],
  ['openIncidents', (k) => k.openIncidents('prod'), (p) => `${p}:incidents:open:prod`],
  ['lease', (k) => k.lease('prod'), (p) => `${p}:monitor:lease:prod`],
  ['monitorProcesses', (k) => k.monitorProcesses(), (p) => `${p}:monitor:procs`],
  ['resume', (k) => k.resume('prod'), (p) => `${p}:monitor:resume:prod`],
  ['logFile', (k) => k.logFile('prod'), (p) => `${p}:monitor:logfile:prod`],
  ['probe', (k) => k.probe('prod'), (p) => `${p}:monitor:probe:prod`],
  ['series', (k) => k.series('prod'), (p) => `${p}:monitor:series:prod`],
  ['picture of an incident', (k) => k.picture('prod', 'i1', 3, 29_000_000), (p) => `${p}:monitor:picture:prod:i1:3:29000000`],
  ['picture of a host', (k) => k.picture('prod', undefined, 3, 29_000_000), (p) => `${p}:monitor:picture:prod:-:3:29000000`],
  ['ackRequest', (k) => k.ackRequest('prod'), (p) => `${p}:monitor:ack:prod`],
  ['controlSeq', (k) => k.controlSeq(), (p) => `${p}:monitor:controlseq`],
  ['blindNotice', (k) => k.blindNotice(), (p) => `${p}:monitor:blind`],
  ['mute', (k) => k.mute('prod'), (p) => `${p}:mute:prod`],
  ['fixMute', (k) => k.fixMute('prod'), (p) => `${p}:mute:prod:fix`],
];

/** Every method of KeySpace that names a key or channel. */
const methods = Object.getOwnPropertyNames(KeySpace.prototype).filter((m) => m !== 'constructor' && m !== 'key' && typeof Object.getOwnPropertyDescriptor(KeySpace.prototype, m)?.value === 'function');

const config = (redis: string) =>
  parseConfigText(`hosts:\n  - name: prod\n    ssh: { host: 203.0.113.7, user: claw, hostKeyFingerprint: "SHA256:${'A'.repeat(43)}" }\n    supervisor: { kind: systemd-user }\n${redis}\n`, 'clawmedic.yaml');

describe('KeySpace', () => {
  it.each(NAMES)('%s keeps the name earlier releases used', (_name, name, old) => {
    expect(name(new KeySpace('clawmedic'))).toBe(old('clawmedic'));
    expect(name(new KeySpace('t-1a2b3c4d'))).toBe(old('t-1a2b3c4d'));
  });

  it('the table above covers every name KeySpace gives', () => {
    const covered = new Set(NAMES.map(([label]) => label.split(' ')[0]));
    expect(methods.filter((m) => !covered.has(m))).toEqual([]);
    expect(methods.length).toBeGreaterThanOrEqual(35);
  });

  it('from the config: the prefix as it is, or a hash tag on a Cluster; every key and BullMQ prefix under it', () => {
    expect(KeySpace.forConfig(config('redis: { keyPrefix: clawmedic }').redis).prefix).toBe('clawmedic');
    const tagged = KeySpace.forConfig(config('redis:\n  keyPrefix: cm\n  cluster:\n    - { host: 10.0.0.21 }').redis);
    expect(tagged.prefix).toBe('{cm}');
    expect(tagged.slotKey).toBe('{cm}');
    for (const [what, name] of NAMES) {
      const key = name(tagged);
      // Redis Cluster hashes only what is inside the first {…}: every key starts with the same tag, so one slot.
      expect(key.startsWith('{cm}:'), what).toBe(true);
      expect(key.indexOf('{'), what).toBe(0);
    }
  });

  it('a SCAN pattern that matches its keys only (the braces of a hash tag escaped)', () => {
    expect(new KeySpace('clawmedic').pattern).toBe('clawmedic:*');
    expect(new KeySpace('{cm}').pattern).toBe('\\{cm\\}:*');
  });

  it('refuses an empty prefix or one with spaces (every key would collide or be unreadable)', () => {
    expect(() => new KeySpace('')).toThrow(RangeError);
    expect(() => new KeySpace('a b')).toThrow(RangeError);
  });

  it('TTLs: one constant each, the week written once (604800 s, as before)', () => {
    expect(TTL.messageSeqSec).toBe(604_800);
    expect(TTL.messageRefSec).toBe(604_800);
    expect(TTL.fixMarkerSec).toBe(604_800);
    expect(TTL.fixRunSec).toBe(604_800);
    expect(TTL.resolvedIncidentSec).toBe(604_800);
    expect(TTL.fixRecoveredSec).toBe(86_400);
    expect(TTL.ackRequestSec).toBe(86_400);
    expect(TTL.silencedRefusalsSec).toBe(86_400);
    expect(TTL.hostWaitSec).toBe(3_600);
    expect(TTL.fixWindowMs).toBe(3_600_000);
    expect(TTL.inflightSec).toBe(1_800);
    expect(TTL.blindNoticeSec).toBe(300);
    expect(TTL.fixMuteSec).toBe(900);
    expect(TTL.pictureSec).toBe(120);
    for (const [name, v] of Object.entries(TTL)) expect(Number.isInteger(v) && v > 0, name).toBe(true);
  });
});
