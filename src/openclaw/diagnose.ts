/**
 * One host's evidence → a verdict: build the typed context, run the rule table
 * (src/openclaw/rules/), rank what the rules found (the cause of what fails now leads), and fall
 * back to "healthy" or "unknown" when nothing explains the state.
 */
import type { Finding, Verdict } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
import type { Evidence } from './evidence-types.js';
import { buildContext, finding, type DiagnoseOptions, type RuleContext } from './rules/context.js';
import { RULES } from './rules/index.js';
import { probeErrorLine } from './rules/port.js';
import { memLine } from './rules/process.js';
import { rank } from './rules/rank.js';

export type { DiagnoseOptions } from './rules/context.js';
export { TOKEN_OVERRIDE_EVIDENCE } from './rules/clients.js';
/** Evidence marker: plugin failures are missing bundled runtime deps (an unfinished update), not a bad plugin. */
export const PLUGIN_DEPS_EVIDENCE = 'plugin runtime deps missing';

/**
 * A gap that says nothing about this host's health and would repeat on every run: an unprivileged
 * user may not read the kernel ring buffer (dmesg). `config check` says once what OOM evidence needs.
 */
export const UNPRIVILEGED_GAP_RE = /^kernel_oom:.*(operation not permitted|permission denied|read kernel buffer failed)/i;

/** Run every rule of the table over the context. */
export function runRules(ctx: RuleContext): Finding[] {
  const found: Finding[] = [];
  for (const { rule } of RULES) {
    const r = rule(ctx, found);
    if (!r) continue;
    if (Array.isArray(r)) found.push(...r);
    else found.push(r);
  }
  return found;
}

/**
 * Diagnose a host from its evidence. `now` is the reference time for "current" (defaults to the
 * host's clock from the evidence, then the local clock); `opts.since` drops older log events.
 */
export function diagnose(host: HostConfig, evidence: Evidence, now?: Date, opts: DiagnoseOptions = {}): Verdict {
  const ctx = buildContext(host, evidence, now, opts);
  const found = runRules(ctx);
  const { gs, probeOk } = ctx;

  // Nothing known explains a failing probe.
  if (!probeOk && gs && found.every((f) => f.weight < 50 || f.supersededBy || f.current === false)) {
    found.push(
      finding({
        cause: 'unknown',
        confidence: 'low',
        weight: 50,
        summary: `The gateway does not answer its probe and no known cause matches: ${probeErrorLine(gs.probeError) || 'no error text'}`,
        evidence: [gs.probeError ? `probe: ${probeErrorLine(gs.probeError)}` : '', ...evidence.gaps.slice(0, 3).map((g) => `gap: ${g}`)],
        current: true,
      }),
    );
  }

  let findings = rank(found);
  // Everything found is over (superseded): the host is as healthy as its probe says.
  if (findings.every((f) => f.supersededBy)) findings = [healthyOrUnknown(ctx), ...findings];

  const connects = ctx.windowEvents.filter((e) => e.kind === 'webchat_connected').length;
  return {
    host: host.name,
    findings,
    openclawVersion: evidence.version ?? gs?.cliVersion,
    probeOk,
    gaps: evidence.gaps.filter((g) => !UNPRIVILEGED_GAP_RE.test(g)),
    at: new Date(now ? now.getTime() : Date.now()).toISOString(),
    ...(connects > 0 ? { clientConnects: connects } : {}),
  };
}

function healthyOrUnknown(ctx: RuleContext): Finding {
  const { gs, evidence, port } = ctx;
  if (gs?.probeOk !== true) {
    return finding({
      cause: 'unknown',
      confidence: 'low',
      weight: 10,
      summary: 'Could not tell the gateway state: its status could not be read',
      evidence: evidence.gaps.slice(0, 5).map((g) => `gap: ${g}`),
      current: true,
    });
  }
  const ours = ctx.ours[0];
  const ev = [
    `probe ${gs.probeUrl ?? ''}: ok`.trim(),
    ours ? `port ${port}: ${ours.process ?? ours.commandLine} (pid ${ours.pid ?? '?'})` : '',
    memLine(ctx),
    ctx.corr.benign.length ? `ignored ${ctx.corr.benign.length} benign rejection(s): ${[...new Set(ctx.corr.benign.map((b) => b.benignWhy))].join(', ')}` : '',
    ctx.svc?.tokenOverride || gs.serviceTokenOverride ? 'note: the service definition passes `--token` (it matches the config right now)' : '',
  ];
  // Without the gateway log, failing clients are invisible (the probe uses the current token): say so.
  const blind = evidence.logSources.length === 0;
  const version = evidence.version ?? gs.gatewayVersion;
  return finding({
    cause: 'healthy',
    confidence: blind ? 'low' : 'high',
    weight: 0,
    summary: blind
      ? `Gateway ${version ? `${version} ` : ''}answers its probe, but its log could not be read, so failing clients cannot be ruled out`
      : `Gateway ${version ? `${version} ` : ''}is up and no client is failing`,
    evidence: blind ? [...ev, 'gap: no gateway log could be read'] : ev,
    current: true,
  });
}
