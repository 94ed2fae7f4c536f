/**
 * Quote one argument for a POSIX shell. The only way values (inventory strings, never chat text)
 * enter remote scripts: single quotes, with embedded single quotes closed, escaped and reopened.
 */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('refusing to quote an argument containing a NUL byte');
  if (arg === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Quote every argument and join them into one command line. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
