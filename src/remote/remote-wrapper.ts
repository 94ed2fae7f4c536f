/**
 * The POSIX sh wrapper every remote script runs inside, so a command we give up on really dies:
 * OpenSSH does not signal a non-pty command when its channel closes, and `sleep 300` never notices.
 */
import { shellQuote } from '../util/shell-quote.js';

/**
 * Body of the wrapper, run as `sh -c WRAPPER clawmedic-run SCRIPT SECONDS`. Why each part:
 * - sshd makes every session its own process group (setsid), so `kill 0` reaches the login shell,
 *   this wrapper, the script and its children (unless they start their own group) and nothing else.
 * - Watchdog: fd 0 is the channel's stdin, which we never close from the client. sshd closes it when
 *   the channel closes or the connection drops, so EOF there means "the client is gone": TERM the
 *   group, then KILL what ignored TERM two seconds later. It ignores TERM itself to live that long.
 * - Timer (SECONDS > 0): a remote-side deadline for a client that hangs without closing anything.
 *   Pure sh + sleep because `timeout`/`setsid` are missing on some hosts. GNU timeout (which the
 *   OpenClaw templates use) moves its command into a process group of its own where `kill 0` cannot
 *   reach it: `pkill -s 0` (the whole SSH session) does.
 * - The script reads /dev/null, never the channel, so it cannot swallow the watchdog's EOF.
 * - Helpers write to /dev/null: a helper holding the channel's stdout would keep the channel open.
 */
const WRAPPER = [
  // Stop everything of this session: the process group, and (where procps' pkill exists) the whole
  // session, which also reaches commands that GNU `timeout` moved into a process group of their own.
  "z() { kill -$1 0; pkill -$1 -s 0; }",
  'exec 3<&0 </dev/null',
  "( trap '' TERM",
  '  while read -r _ <&3; do :; done',
  '  z TERM; sleep 2; z KILL ) >/dev/null 2>&1 &',
  'w=$!',
  't=',
  'if [ "$2" -gt 0 ]; then',
  "  ( trap '' TERM",
  "    s=; trap 'kill -KILL $s 2>/dev/null; exit 0' USR1",
  '    sleep "$2" & s=$!',
  '    wait $s && { z TERM; sleep 2; z KILL; } ) >/dev/null 2>&1 3<&- &',
  '  t=$!',
  'fi',
  'exec 3<&-',
  'sh -c "$1"',
  'rc=$?',
  'kill -KILL $w 2>/dev/null',
  'if [ -n "$t" ]; then kill -USR1 $t 2>/dev/null; fi',
  'exit $rc',
].join('\n');

/**
 * Build the command string handed to ssh2 `exec` for `script`, with a remote deadline of
 * `deadlineSeconds` (0 = none, for log streams). The result is safe for any POSIX login shell.
 */
export function wrapRemoteScript(script: string, deadlineSeconds: number): string {
  const secs = Math.max(0, Math.ceil(deadlineSeconds));
  return `sh -c ${shellQuote(WRAPPER)} clawmedic-run ${shellQuote(script)} ${secs}`;
}
