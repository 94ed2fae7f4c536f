/**
 * Ranking of findings: the headline is the cause of what fails now. Order: not superseded before
 * superseded, current before old, then confidence, then weight; one finding per cause.
 */
import type { Confidence, Finding } from '../../domain/diagnosis.js';

const CONF: Record<Confidence, number> = { high: 3, medium: 2, low: 1 };

export function compareFindings(a: Finding, b: Finding): number {
  const sa = a.supersededBy ? 1 : 0;
  const sb = b.supersededBy ? 1 : 0;
  if (sa !== sb) return sa - sb;
  const ca = a.current === false ? 0 : 1;
  const cb = b.current === false ? 0 : 1;
  if (ca !== cb) return cb - ca;
  if (CONF[a.confidence] !== CONF[b.confidence]) return CONF[b.confidence] - CONF[a.confidence];
  return b.weight - a.weight;
}

/** Sort and keep the first (best-ranked) finding of each cause. */
export function rank(findings: readonly Finding[]): Finding[] {
  const sorted = [...findings].sort(compareFindings);
  const out: Finding[] = [];
  for (const f of sorted) if (!out.some((u) => u.cause === f.cause)) out.push(f);
  return out;
}
