/**
 * The evidence pass's remote scripts: a prelude of shell functions, then the gateway, host and log
 * parts (evidence-gateway-part.ts, evidence-host-part.ts, evidence-log-part.ts). Each section is
 * fenced by markers and carries its own exit code, so one failing command never spoils the rest.
 */
import type { HostConfig } from '../domain/host.js';
import { shellQuote } from '../util/shell-quote.js';
import { configFactsLines, envFileLines, gatewayAnswerLines, helloCommand } from './evidence-gateway-part.js';
import { hostPartLines } from './evidence-host-part.js';
import { logLines } from './evidence-log-part.js';
import { RC_MARK, SECTION_MARK } from './evidence-sections.js';
import { containerOf, LOG_FILTER_ERE, TIMEOUT_PRELUDE } from './templates.js';

/**
 * Exec deadline for the evidence script: the sum of its inner timeouts (status 45 s + text 45 s,
 * version 20 s, health 15 s, config 20 s, logs 2×30 s, docker stats 20 s) plus slack. Typical runs take 10-20 s.
 */
export const EVIDENCE_TIMEOUT_MS = 240_000;

/** Output cap of the evidence pass: the log byte caps (evidence-log-part.ts) plus room for every other section. */
export const EVIDENCE_MAX_OUTPUT_BYTES = 3_000_000;

/** Shell functions every evidence script starts with. */
function prelude(): string[] {
  return [
    '#!/bin/sh',
    '# clawmedic evidence pass: read-only',
    TIMEOUT_PRELUDE,
    `_cm_s() { printf '\\n${SECTION_MARK}%s\\n' "$1"; }`,
    `_cm_e() { printf '\\n${RC_MARK}%s\\n' "$1"; }`,
    `_cm_filter=${shellQuote(LOG_FILTER_ERE)}`,
  ];
}

/**
 * The evidence pass as independent scripts, run at once on one SSH connection (one exec channel
 * each): (1) the gateway: hello (or the CLI), config facts, env file, health, the file log (it needs
 * the log path the gateway part found); (2) the host: clock, listeners, memory, kernel OOM lines,
 * supervisor state; (3) the journal or docker logs, when the host has them. Each prints the same
 * fenced sections as the one sequential script, so parseEvidence reads their outputs joined.
 */
export function buildEvidenceScripts(host: HostConfig): string[] {
  return evidenceParts(host).map((part) => `${[...prelude(), ...part, 'exit 0'].join('\n')}\n`);
}

/**
 * Build the evidence script for a host: one POSIX sh script gathering version, gateway status,
 * listeners, memory, kernel OOM lines, supervisor state, config facts, health and recent logs
 * (the parts of buildEvidenceScripts one after the other).
 */
export function buildEvidenceScript(host: HostConfig): string {
  return `${[...prelude(), ...evidenceParts(host).flat(), 'exit 0'].join('\n')}\n`;
}

function evidenceParts(host: HostConfig): string[][] {
  const container = containerOf(host);
  const hello = helloCommand(host, container);
  const logs = logLines(host, container);
  // The file log last in its part: the largest section, so a byte cap on the output cuts it, not the facts.
  const gw = [...gatewayAnswerLines(host, hello), ...configFactsLines(host, container, hello), ...envFileLines(host), ...logs.gw];
  return [gw, hostPartLines(host, container), logs.journal].filter((part) => part.length > 0);
}
