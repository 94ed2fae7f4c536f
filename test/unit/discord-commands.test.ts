/**
 * The slash-command definition: names match the router's commands, host options autocomplete,
 * and invoked commands re-assemble into the text the router's one parser reads.
 */
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES } from '../../src/domain/types.js';
import { HOST_OPTION, commandPayloads, commandText } from '../../src/chat/discord/commands.js';

describe('Discord slash commands', () => {
  it('defines the router commands with autocompleting host options', () => {
    const payloads = commandPayloads();
    const names = payloads.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['status', 'diagnose', 'fix', 'hosts', 'history', 'mute', 'ack']));
    for (const n of names) expect(COMMAND_NAMES as readonly string[]).toContain(n);
    const byName = Object.fromEntries(payloads.map((c) => [c.name, c]));
    expect(byName.status!.options![0]).toMatchObject({ name: HOST_OPTION, required: false, autocomplete: true });
    for (const n of ['diagnose', 'fix', 'history', 'mute', 'unmute', 'ack']) {
      expect(byName[n]!.options![0]).toMatchObject({ name: HOST_OPTION, required: true, autocomplete: true });
    }
    expect(byName.hosts!.options ?? []).toEqual([]);
  });

  it('re-assembles the command text in definition order, skipping missing options', () => {
    const values = (v: Record<string, string>) => (name: string) => v[name];
    expect(commandText('fix', values({ host: 'prod' }))).toBe('/fix prod');
    expect(commandText('status', values({}))).toBe('/status');
    expect(commandText('mute', values({ reason: 'deploy window', host: 'prod', duration: '30m' }))).toBe('/mute prod 30m deploy window');
    expect(commandText('mute', values({ host: 'prod', reason: 'x' }))).toBe('/mute prod x');
    // A value with spaces cannot smuggle in extra arguments (only the free-text reason keeps spaces).
    expect(commandText('diagnose', values({ host: 'prod --force' }))).toBe('/diagnose prod---force');
    expect(commandText('mute', values({ host: 'prod', duration: '1 h' }))).toBe('/mute prod 1-h');
  });
});
