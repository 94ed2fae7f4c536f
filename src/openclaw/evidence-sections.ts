/**
 * The fence every remote script of ours prints around a section: a marker line with the section's
 * name, its output, a marker line with its exit code. Splitting reads the fences back; a section cut
 * short (timeout, output cap) keeps what arrived with an unknown exit code.
 */
import type { EvidenceSection } from './evidence-types.js';

/** Marker that opens a section: `@@CLAWMEDIC section=<name>`. */
export const SECTION_MARK = '@@CLAWMEDIC section=';
/** Marker that closes a section with its exit code: `@@CLAWMEDIC rc=<n>`. */
export const RC_MARK = '@@CLAWMEDIC rc=';

/** Split the script's stdout into sections (name → rc + body). */
export function splitSections(stdout: string): Record<string, EvidenceSection> {
  const out: Record<string, EvidenceSection> = {};
  let pos = 0;
  for (;;) {
    const s = stdout.indexOf(SECTION_MARK, pos);
    if (s < 0) break;
    const nameEnd = stdout.indexOf('\n', s);
    if (nameEnd < 0) break;
    const name = stdout.slice(s + SECTION_MARK.length, nameEnd).trim();
    const r = stdout.indexOf(`\n${RC_MARK}`, nameEnd);
    const nextSection = stdout.indexOf(`\n${SECTION_MARK}`, nameEnd);
    let body: string;
    let rc: number | null = null;
    if (r >= 0 && (nextSection < 0 || r < nextSection)) {
      body = stdout.slice(nameEnd + 1, r);
      const rcEnd = stdout.indexOf('\n', r + 1);
      const rcText = stdout.slice(r + 1 + RC_MARK.length, rcEnd < 0 ? undefined : rcEnd).trim();
      rc = /^\d+$/.test(rcText) ? Number(rcText) : null;
      pos = rcEnd < 0 ? stdout.length : rcEnd;
    } else {
      // Cut short (timeout, output cap): keep what arrived, rc unknown.
      body = stdout.slice(nameEnd + 1, nextSection < 0 ? undefined : nextSection);
      pos = nextSection < 0 ? stdout.length : nextSection;
    }
    if (body.endsWith('\n')) body = body.slice(0, -1);
    out[name] = { name, rc, output: body };
    if (pos >= stdout.length) break;
  }
  return out;
}
