/**
 * The evidence block every platform folds under a reply (Telegram expandable blockquote, Discord
 * embed field, console indented): redacted, each line once, clipped, capped. Shared so the three
 * renderers show the same lines.
 */
import type { ReplyEvidence } from '../domain/types.js';
import { redact } from '../util/redact.js';

/** Lines kept in the folded block; more are counted in a last "… N more" line. */
export const EVIDENCE_MAX_LINES = 12;
/** Characters kept of one line (log lines can be kilobytes). */
export const EVIDENCE_LINE_MAX = 300;

/** Redacted, deduplicated (first occurrence wins), clipped lines, plus "… N more" when capped. */
export function evidenceLines(evidence: ReplyEvidence | undefined, maxLines = EVIDENCE_MAX_LINES): string[] {
  if (!evidence) return [];
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const raw of evidence.lines) {
    const line = redact(raw).replace(/\s+/g, ' ').trim();
    if (line === '' || seen.has(line)) continue;
    seen.add(line);
    lines.push(line.length > EVIDENCE_LINE_MAX ? `${line.slice(0, EVIDENCE_LINE_MAX - 1)}…` : line);
  }
  if (lines.length <= maxLines) return lines;
  return [...lines.slice(0, maxLines - 1), `… ${lines.length - maxLines + 1} more`];
}
