/** The gateway process: down, crash loop, out of memory, memory pressure, a second gateway. */
import type { Finding } from '../../domain/diagnosis.js';
import { clip, eventLine, finding, hhmmss, lastMsOf, type Rule, type RuleContext } from './context.js';
import { probeErrorLine } from './port.js';

function memLine(ctx: RuleContext): string {
  const mem = ctx.evidence.containerMemory ?? ctx.evidence.memory;
  return mem ? `memory: ${mem.usedPercent}% used${mem.totalMb ? ` of ${mem.totalMb} MB` : ''} (${mem.source})` : '';
}
export { memLine };

export const memoryRule: Rule = (ctx) => {
  const { svc, down } = ctx;
  const oomSince = Math.max(ctx.now - 2 * 3600_000, ctx.sinceMs);
  const oomKernel = ctx.evidence.kernelOom.filter((e) => e.kind === 'kernel_oom' && e.openclaw && (Number.isNaN(e.ms) || e.ms >= oomSince));
  const heapOom = ctx.windowEvents.filter((e) => e.kind === 'heap_oom');
  // Docker records 137 for every SIGKILL, `docker stop` included (seen on a real engine): only its
  // OOMKilled flag says the kernel did it. systemd's exit status 9 with a failed result is a kill.
  const exit137 = svc?.source === 'docker' ? false : svc?.exitStatus === 9 && svc.result !== 'success';
  const mem = ctx.evidence.containerMemory ?? ctx.evidence.memory;
  const ml = memLine(ctx);
  if (oomKernel.length > 0 || heapOom.length > 0 || svc?.oomKilled === true || (down && exit137)) {
    const ev: string[] = [];
    for (const e of oomKernel.slice(-3)) ev.push(eventLine(e));
    for (const e of heapOom.slice(-2)) ev.push(e.time ? eventLine(e) : clip(e.text));
    if (svc?.oomKilled) ev.push(`supervisor: ${svc.summary} (killed by the OOM killer)`);
    else if (exit137 && svc) ev.push(`supervisor: ${svc.summary} (exit 137 = SIGKILL)`);
    if (ml) ev.push(ml);
    const heapOnly = heapOom.length > 0 && oomKernel.length === 0 && !svc?.oomKilled;
    const last = lastMsOf([...oomKernel, ...heapOom]);
    return finding({
      cause: 'out_of_memory',
      confidence: oomKernel.length > 0 || svc?.oomKilled || heapOom.length > 0 ? 'high' : 'medium',
      weight: down ? 96 : 62,
      summary: heapOnly
        ? `The gateway ran out of JavaScript heap (FATAL ERROR … heap out of memory)${down ? ' and is down' : ''}`
        : `The kernel killed the gateway for lack of memory${down ? ' and it is down' : ' (it is running again now)'}`,
      evidence: ev,
      userActions: heapOnly
        ? ['Raise the Node heap limit (NODE_OPTIONS=--max-old-space-size=…) or the server RAM; an idle 2026.9 gateway holds 600–800 MB.']
        : [
            'Give the server more RAM or add swap; an idle 2026.9 gateway holds 600–800 MB RSS plus ~170 MB in helpers.',
            'Set a MemoryMax/limit that fits, and run fewer concurrent jobs.',
          ],
      lastSeen: last,
      // Down right now, or killed within the live window: the cause of what fails now.
      current: down || (Number.isFinite(last) && last >= ctx.liveMs),
    });
  }
  if (mem && mem.usedPercent > 80) {
    return finding({
      cause: 'memory_pressure',
      confidence: mem.usedPercent > 90 ? 'high' : 'medium',
      weight: mem.usedPercent > 90 ? 45 : 35,
      summary: `Memory is ${mem.usedPercent}% used: the gateway risks being OOM-killed`,
      evidence: [ml],
      userActions: ['Add RAM or swap, or run fewer concurrent jobs; an idle 2026.9 gateway holds 600–800 MB.'],
      current: true,
    });
  }
  return null;
};

/** Evidence lines of a container crash: the inspect facts and the gap in the log before the restart. */
function containerCrashLines(ctx: RuleContext): string[] {
  const cc = ctx.containerCrash;
  if (!cc) return [];
  const ev = [`supervisor: ${ctx.svc?.summary ?? ''}${ctx.svc?.restartPolicy ? ` (restart policy ${ctx.svc.restartPolicy})` : ''}`];
  if (Number.isFinite(cc.endedMs)) ev.push(`docker: the gateway process ended at ${hhmmss(cc.endedMs)}, restarted by Docker at ${hhmmss(cc.restartedMs)}`);
  else if (Number.isFinite(cc.restartedMs)) ev.push(`docker: restarted by Docker at ${hhmmss(cc.restartedMs)}`);
  if (cc.lastLineBefore) {
    ev.push(
      `log: last line before the restart at ${hhmmss(cc.lastLineBefore.ms)}${cc.cleanBefore ? ' (after a clean shutdown)' : ', no clean shutdown before it'}: ${eventLine(cc.lastLineBefore)}`,
    );
  }
  return ev;
}

export const downRule: Rule = (ctx) => {
  const { svc, gs, down, port } = ctx;
  const restarts = svc?.restarts ?? 0;
  const unclean = ctx.uncleanRestarts;
  const crashLoop = restarts >= 3 || unclean >= 3;
  const cc = ctx.containerCrash;
  const containerName = svc?.source === 'docker' ? (ctx.host.container ?? (ctx.host.supervisor.kind === 'docker' ? ctx.host.supervisor.container : 'its container')) : '';
  if (cc && !crashLoop) {
    // One or two crashes Docker recovered from: listed always, the headline while recent or while down,
    // unless the restarted run was later stopped cleanly: then the stop is what fails now.
    const stoppedSince = cc.cleanStopAfterMs;
    const crashNow = stoppedSince === undefined && (down || (Number.isFinite(cc.restartedMs) && cc.restartedMs >= ctx.liveMs));
    const crash = finding({
      cause: 'crash_loop',
      confidence: 'high',
      weight: down && stoppedSince === undefined ? 92 : 80,
      summary: `The gateway crashed inside container ${containerName} and Docker's restart policy started it again${Number.isFinite(cc.restartedMs) ? ` at ${hhmmss(cc.restartedMs)}` : ''} (RestartCount ${cc.restarts})${down && stoppedSince === undefined ? '; it does not answer now' : ''}`,
      evidence: [...containerCrashLines(ctx), gs?.probeError ? `probe: ${probeErrorLine(gs.probeError)}` : ''],
      userActions: ['Look for what killed it (memory, a plugin, a kill by hand) in the container log before the restart; a crash that repeats becomes a crash loop.'],
      since: Number.isFinite(cc.restartedMs) ? cc.restartedMs : undefined,
      lastSeen: Number.isFinite(cc.restartedMs) ? cc.restartedMs : undefined,
      current: crashNow,
      ...(stoppedSince !== undefined ? { supersededBy: `a clean stop of the restarted gateway at ${hhmmss(stoppedSince)}` } : {}),
    });
    if (!down) return crash;
    const d = downFinding(ctx);
    return d ? [crash, d] : crash;
  }
  if (down && crashLoop) {
    const ev: string[] = [];
    if (svc) ev.push(`supervisor: ${svc.summary}`);
    if (unclean) ev.push(`log: ${unclean} starts without a clean shutdown in the last ${ctx.windowMin} min`);
    if (gs?.probeError) ev.push(`probe: ${probeErrorLine(gs.probeError)}`);
    return finding({
      cause: 'crash_loop',
      confidence: 'high',
      weight: 92,
      summary: `The gateway keeps crashing and restarting (${Math.max(restarts, unclean)} restarts)`,
      evidence: ev,
      userActions: ['If it crashes again after the restart, check the plugins and memory findings and the gateway log.'],
      current: true,
    });
  }
  if (!down && crashLoop) {
    const starts = ctx.startTimes.filter((t) => t >= ctx.sinceMs);
    const last = cc && Number.isFinite(cc.restartedMs) ? cc.restartedMs : starts.length ? starts[starts.length - 1]! : NaN;
    return finding({
      cause: 'crash_loop',
      confidence: cc ? 'high' : 'medium',
      weight: cc ? 82 : 70,
      summary: `The gateway answers now but restarted ${Math.max(restarts, unclean)} times recently${cc ? ` (Docker's restart policy brought container ${containerName} back after each crash)` : ''}`,
      evidence: cc ? [...containerCrashLines(ctx), unclean ? `log: ${unclean} starts without a clean shutdown` : ''] : [svc ? `supervisor: ${svc.summary}` : '', unclean ? `log: ${unclean} starts without a clean shutdown` : ''],
      lastSeen: last,
      current: Number.isFinite(last) && last >= ctx.liveMs,
    });
  }
  return downFinding(ctx);
};

/** The gateway is down (and no crash loop explains it): crashed, stopped cleanly, or nothing answers. */
function downFinding(ctx: RuleContext): Finding | null {
  const { svc, gs, down, port } = ctx;
  if (!down) return null;
  const ev: string[] = [];
  if (gs?.probeError) ev.push(`probe ${gs.probeUrl ?? ''}: ${probeErrorLine(gs.probeError)}`.trim());
  if (gs?.portStatus) ev.push(`port ${port}: ${gs.portStatus}${ctx.listeners.length === 0 ? ', nothing listening' : ''}`);
  if (svc) ev.push(`supervisor: ${svc.summary}`);
  if (ctx.lastLifecycle) ev.push(`last lifecycle line: ${eventLine(ctx.lastLifecycle)}`);
  const crashed = ctx.lastLifecycle !== undefined && !ctx.stoppedCleanly;
  return finding({
    cause: 'gateway_down',
    confidence: 'high',
    weight: 90,
    summary: crashed
      ? 'The gateway is down and its log ends without a clean shutdown: it crashed or was killed'
      : ctx.stoppedCleanly
        ? 'The gateway is down: it was stopped cleanly and nothing started it again'
        : 'The gateway is down: nothing answers on its port',
    evidence: ev,
    current: true,
  });
}

export const secondGatewayRule: Rule = (ctx) => {
  const second = ctx.windowEvents.filter((e) => e.kind === 'second_gateway');
  if (second.length === 0) return null;
  const last = lastMsOf(second);
  return finding({
    cause: 'second_gateway',
    confidence: 'high',
    weight: ctx.probeOk ? 50 : 55,
    summary: `Something started a second gateway while one runs (${second.length}× "another OpenClaw process owns gateway-lifecycle")`,
    evidence: second.slice(-2).map(eventLine),
    userActions: ['Make sure only one supervisor starts the gateway (a systemd unit, a container, a cron job or a shell — not two of them).'],
    lastSeen: last,
    current: !Number.isFinite(last) || last >= ctx.liveMs,
  });
};

export type { Finding };
