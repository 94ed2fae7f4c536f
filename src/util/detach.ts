/**
 * A copy of `s` that shares no memory with the string it was cut from. V8 makes `slice`/regex
 * captures of 13+ characters views into their parent, so a 36-character conn id kept in an incident
 * would keep its whole 1.5 KB log line alive (at 500 hosts × 100 kept ids, that was 75 MB of heap).
 * Use it for substrings of input that outlive the input.
 */
export function detach(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}
