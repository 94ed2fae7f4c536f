/**
 * The evidence pass: the remote scripts a diagnose pass runs and the parser of their output, by
 * job in their own modules — the section fence (evidence-sections.ts), the scripts
 * (evidence-script.ts with its gateway, host and log parts), the parser (evidence-parse.ts) and
 * the parsers of single fact sections (evidence-facts.ts). Importers keep this one path.
 */
export { RC_MARK, SECTION_MARK, splitSections } from './evidence-sections.js';
export { buildEvidenceScript, buildEvidenceScripts, EVIDENCE_MAX_OUTPUT_BYTES, EVIDENCE_TIMEOUT_MS } from './evidence-script.js';
export { parseEvidence } from './evidence-parse.js';
export { clobberedStampToIso, parseConfigFacts, parseService } from './evidence-facts.js';
export { CLOBBERED_JS } from './evidence-gateway-part.js';
