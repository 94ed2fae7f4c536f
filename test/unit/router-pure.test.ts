import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/router/parse-command.js';
import { commandsFor, hostsForChat, roleAllows, roleOf } from '../../src/router/authorize.js';
import { parseDuration } from '../../src/router/router.js';
import { parseConfigText } from '../../src/config/load-config.js';

const FP = `SHA256:${'A'.repeat(43)}`;
const config = parseConfigText(
  `hosts:
  - { name: prod, ssh: { host: h, user: u, hostKeyFingerprint: "${FP}" }, supervisor: { kind: systemd-user } }
  - { name: lab, ssh: { host: h, user: u, hostKeyFingerprint: "${FP}" }, supervisor: { kind: systemd-user } }
people:
  - { platform: telegram, userId: 1, role: viewer }
  - { platform: telegram, userId: 2, role: operator }
  - { platform: discord, userId: "3", role: admin, hosts: [lab] }
chats:
  - { platform: telegram, chatId: -100, hosts: [prod] }
  - { platform: discord, chatId: "9", hosts: ["*"] }
`,
  'clawmedic.yaml',
);

describe('parseCommand', () => {
  it('splits name and args and strips @botname', () => {
    expect(parseCommand('/fix@clawmedic_bot prod')).toEqual({ ok: true, name: 'fix', args: ['prod'] });
    expect(parseCommand('  /STATUS  ')).toEqual({ ok: true, name: 'status', args: [] });
    expect(parseCommand('/mute prod 30m deploy window')).toEqual({ ok: true, name: 'mute', args: ['prod', '30m', 'deploy', 'window'] });
  });
  it('refuses non-commands and unknown commands', () => {
    expect(parseCommand('hello')).toEqual({ ok: false, error: 'not_a_command' });
    expect(parseCommand('/restart prod')).toMatchObject({ ok: false, error: 'unknown_command', word: '/restart' });
  });
});

describe('authorize', () => {
  it('maps immutable ids to roles, deny by default', () => {
    expect(roleOf(config, { platform: 'telegram', userId: '1' })).toBe('viewer');
    expect(roleOf(config, { platform: 'discord', userId: '1' })).toBeUndefined();
    expect(roleOf(config, { platform: 'telegram', userId: '99', displayName: 'admin' })).toBeUndefined();
  });
  it('ranks roles', () => {
    expect(roleAllows('viewer', 'status')).toBe(true);
    expect(roleAllows('viewer', 'fix')).toBe(false);
    expect(roleAllows('operator', 'fix')).toBe(true);
    expect(roleAllows(undefined, 'help')).toBe(false);
    expect(commandsFor(config, { platform: 'telegram', userId: '1' })).not.toContain('diagnose');
  });
  it('binds chats to hosts', () => {
    expect(hostsForChat(config, { platform: 'telegram', chatId: '-100', isGroup: true })).toEqual(['prod']);
    expect(hostsForChat(config, { platform: 'discord', chatId: '9', isGroup: true })).toEqual(['prod', 'lab']);
    expect(hostsForChat(config, { platform: 'telegram', chatId: '-200', isGroup: true })).toEqual([]);
    expect(hostsForChat(config, { platform: 'console', chatId: 'x', isGroup: false })).toEqual(['prod', 'lab']);
  });
  it('a DM that is not bound itself sees the hosts bound to the person', () => {
    const dm = { platform: 'discord' as const, chatId: '7777', isGroup: false };
    expect(hostsForChat(config, dm, { platform: 'discord', userId: '3' })).toEqual(['lab']);
    expect(hostsForChat(config, dm, { platform: 'discord', userId: '4' })).toEqual([]);
    // A group never inherits a person's hosts.
    expect(hostsForChat(config, { ...dm, isGroup: true }, { platform: 'discord', userId: '3' })).toEqual([]);
  });
});

describe('parseDuration', () => {
  it('parses s/m/h/d and rejects the rest', () => {
    expect(parseDuration('30m')).toBe(1800);
    expect(parseDuration('2h')).toBe(7200);
    expect(parseDuration('1d')).toBe(86400);
    expect(parseDuration('31d')).toBeUndefined();
    expect(parseDuration('5 m')).toBeUndefined();
    expect(parseDuration('$(x)')).toBeUndefined();
  });
});
