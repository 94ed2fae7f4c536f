/**
 * zod issues as the lines a person reads: `clawmedic.yaml: hosts[1].ssh.port: expected integer 1-65535, got "22a"`.
 * Shared by the config file (load-config.ts) and the environment (secrets.ts), which never prints a secret's value.
 */
import type { z } from 'zod';

/** Render a zod path as `hosts[1].ssh.port`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(top level)';
}

/** Stands in for a value that must not be printed (a secret from the environment). */
export const HIDDEN_INPUT = Symbol('hidden input');

function describeInput(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === HIDDEN_INPUT) return 'a value that does not fit (not shown: it is a secret)';
  const text = JSON.stringify(input);
  return text === undefined ? String(input) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** One line per problem, each naming the file, the key path, what was expected and what was found. */
export function formatIssues(file: string, issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const where = `${file}: ${formatPath(issue.path)}`;
      if (issue.code === 'unrecognized_keys') return `${where}: unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      const got = 'input' in issue ? `, got ${describeInput(issue.input)}` : '';
      const message = issue.message.startsWith('Invalid input') && issue.code === 'invalid_type'
        ? `expected ${issue.expected}`
        : issue.message;
      return `${where}: ${message}${issue.code === 'custom' ? '' : got}`;
    })
    .join('\n');
}
