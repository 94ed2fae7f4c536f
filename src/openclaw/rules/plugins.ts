/** plugin_failure: plugins that fail to load in the running gateway (health) or since its last start (log). */
import type { PluginFailureEvent } from '../evidence-types.js';
import { finding, firstMsOf, lastMsOf, type Rule } from './context.js';

const DEPS_MISSING_RE = /bundled runtime deps|Cannot find module|ERR_MODULE_NOT_FOUND|safe npm executable/i;
const NO_NPM_RE = /Unable to resolve a safe npm executable/i;

export const pluginRule: Rule = (ctx) => {
  const fails = new Map<string, string>();
  for (const p of ctx.evidence.health?.pluginErrors ?? []) fails.set(p.id, p.error);
  const all = ctx.evidence.logEvents;
  const sinceStart = ctx.lastStart ? all.slice(all.indexOf(ctx.lastStart)) : all;
  const events = sinceStart.filter((e): e is PluginFailureEvent => e.kind === 'plugin_failure' && (Number.isNaN(e.ms) || e.ms >= ctx.sinceMs));
  for (const e of events) if (!fails.has(e.plugin)) fails.set(e.plugin, e.error);
  if (fails.size === 0) return null;
  const allIds = [...fails.keys()];
  const errors = [...fails.values()];
  // Plugins whose own code fails (a disable fixes them) and plugins whose runtime deps are missing
  // (an install problem: seen together on real 2026.4.29, whose bundled plugins cannot stage their
  // deps without npm beside its Node, while a user's plugin throws at load). The first are the fix.
  const depsIds = allIds.filter((id) => DEPS_MISSING_RE.test(fails.get(id)!));
  const broken = allIds.filter((id) => !depsIds.includes(id));
  const depsMissing = broken.length === 0;
  const ids = depsMissing ? allIds : broken;
  const alsoDeps = !depsMissing && depsIds.length > 0 ? `; ${depsIds.length} more lack their runtime dependencies: ${depsIds.slice(0, 5).join(', ')}` : '';
  // 2026.4 without npm on PATH: doctor --fix tries to install the same deps and fails the same way.
  const noNpm = errors.some((err) => NO_NPM_RE.test(err)) || sinceStart.some((e) => NO_NPM_RE.test(e.text));
  const ev = [...ids, ...(depsMissing ? [] : depsIds)].slice(0, 6).map((id) => `plugin ${id} failed: ${fails.get(id)}`);
  if (depsIds.length) ev.push('plugin runtime deps missing: the plugins\' modules are missing (an update that did not finish)');
  if (noNpm) ev.push('"Unable to resolve a safe npm executable": no npm beside the Node that runs the gateway, so neither the gateway nor doctor --fix can install them');
  return finding({
    cause: 'plugin_failure',
    confidence: ctx.evidence.health?.pluginErrors.length ? 'high' : 'medium',
    weight: ctx.down ? 60 : 48,
    summary: depsMissing
      ? `${ids.length} plugin(s) failed to load because their runtime dependencies are missing: ${ids.slice(0, 5).join(', ')}`
      : `${ids.length} plugin(s) failed to load: ${ids.slice(0, 5).join(', ')}${alsoDeps}`,
    evidence: ev,
    userActions: noNpm
      ? // Real 2026.4.29 looks for npm only beside process.execPath (../lib/node_modules/npm, node_modules/npm, npm), never on PATH.
        ['Run the gateway with a Node install that ships npm beside its `node` binary (OpenClaw 2026.4 looks for npm there, not on PATH), then run `openclaw doctor --fix` with the gateway stopped, or `openclaw update`.']
      : depsMissing
        ? ['Finish the update (`openclaw update`, or stop the gateway and run `openclaw doctor --fix`).']
        : [],
    since: firstMsOf(events),
    lastSeen: lastMsOf(events),
    // Failed in the process that runs now (since its last start), or reported by its health RPC.
    current: true,
    details: {
      pluginIds: ids,
      ...(depsMissing ? { pluginDepsMissing: true } : {}),
      ...(noNpm ? { doctorUnavailable: 'Unable to resolve a safe npm executable (no npm beside the Node that runs the gateway)' } : {}),
    },
  });
};
