/**
 * One diagnose pass's evidence, gathered over SSH: the independent parts of the evidence script
 * (gateway, host, journal) run at once, one exec channel each on the host's one pooled connection
 * (the runner caps channels per connection below OpenSSH's MaxSessions and queues the rest), and
 * their outputs are joined in a fixed order for parseEvidence. The pass is still one job under the
 * host's turn: concurrency is inside it, never between jobs on one host.
 */
import { SshTimeoutError } from '../domain/errors.js';
import type { HostConfig } from '../domain/host.js';
import type { RemoteRunner } from '../domain/remote.js';
import { buildEvidenceScripts, EVIDENCE_MAX_OUTPUT_BYTES, EVIDENCE_TIMEOUT_MS } from '../openclaw/evidence.js';

/** What the parts printed, joined, and what went missing on the way. */
export interface GatheredEvidence {
  stdout: string;
  /** One line per part that was cut (output cap) or timed out; parseEvidence adds its own per section. */
  gaps: string[];
  /** Wall time of the slowest part, ms. */
  durationMs: number;
}

/**
 * Run the evidence parts of `host` concurrently. A part that times out becomes a gap (its sections
 * are then "not collected"); when every part fails, or the host is unreachable, the error is thrown
 * as before.
 */
export async function gatherEvidence(
  runner: RemoteRunner,
  host: HostConfig,
  opts: { maxOutputBytes?: number; timeoutMs?: number } = {},
): Promise<GatheredEvidence> {
  const cap = Math.max(opts.maxOutputBytes ?? 0, EVIDENCE_MAX_OUTPUT_BYTES);
  const timeoutMs = opts.timeoutMs ?? EVIDENCE_TIMEOUT_MS;
  const started = performance.now();
  const scripts = buildEvidenceScripts(host);
  const results = await Promise.allSettled(scripts.map((script) => runner.exec(host, script, { timeoutMs, maxOutputBytes: cap })));
  const gaps: string[] = [];
  const outputs: string[] = [];
  let firstError: unknown;
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') {
      outputs.push(r.value.stdout);
      if (r.value.truncated) gaps.push(`evidence part ${i + 1}: output over ${cap} bytes was cut`);
      return;
    }
    firstError ??= r.reason;
    if (r.reason instanceof SshTimeoutError) gaps.push(`evidence part ${i + 1}: timed out after ${Math.round(timeoutMs / 1000)} s`);
  });
  const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
  // Only a part that timed out is a gap; anything else (host unreachable, key mismatch) fails the pass.
  if (failed.length === results.length || failed.some((r) => !(r.reason instanceof SshTimeoutError))) throw firstError;
  return { stdout: outputs.join(''), gaps, durationMs: Math.round(performance.now() - started) };
}
