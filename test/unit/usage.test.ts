import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES } from '../../src/domain/types.js';
import { helpLine, USAGE, usageLine } from '../../src/render/usage.js';
import { parseCommand } from '../../src/router/parse-command.js';
import { parseDuration } from '../../src/router/router.js';

describe('usage texts (issue 14, item 7)', () => {
  it.each([...COMMAND_NAMES])('/%s: the example fills every required argument and parses as that command', (name) => {
    const example = USAGE[name].example('lab');
    const parsed = parseCommand(example);
    expect(parsed.ok && parsed.name).toBe(name);
    // As many words as the syntax has required arguments (<…>), none of them a placeholder.
    const required = (USAGE[name].syntax.match(/<[^>]+>/g) ?? []).length;
    expect(parsed.ok && parsed.args.length).toBeGreaterThanOrEqual(required);
    expect(example).not.toMatch(/[<>[\]]/);
    expect(usageLine(name, 'lab')).toContain(`e.g. ${example}`);
  });
  it('the /mute example carries a duration the router accepts', () => {
    const parsed = parseCommand(USAGE.mute.example('prod'));
    expect(parsed.ok && parseDuration(parsed.args[1]!)).toBe(1800);
    expect(helpLine('mute', 'prod')).toBe('/mute <host> <30m|2h|1d> [reason] — hold alerts for a host. Example: /mute prod 30m deploy');
  });
});
