/** port_conflict: something that is not the gateway holds its port. */
import { clip, eventLine, finding, lastMsOf, type Rule } from './context.js';

/** First line of a probe error, without any body a foreign HTTP server sent back (it may be a whole page). */
export function probeErrorLine(err: string | undefined, n = 120): string {
  const first = (err ?? '').split('\n')[0]!.replace(/<[^>]*>?/g, ' ');
  return clip(first, n);
}

export const portConflictRule: Rule = (ctx) => {
  if (!ctx.portTaken) return null;
  const { port, gs, foreign } = ctx;
  const portEvents = ctx.windowEvents.filter((e) => e.kind === 'port_conflict');
  const owner = foreign[0];
  const ev: string[] = [];
  for (const l of foreign) ev.push(`port ${port} owner: ${l.process ?? l.commandLine} (pid ${l.pid ?? '?'}${l.user ? `, user ${l.user}` : ''}) on ${l.address}${l.commandLine ? `: ${l.commandLine}` : ''}`);
  const hidden = !owner && ctx.hiddenOwner;
  if (hidden) ev.push(`port ${port} is in use but its owner is not visible to the SSH user ${ctx.host.ssh.user}: a process of another Linux user`);
  if (gs?.probeForeignHttp && gs.probeError) ev.push(`probe: ${probeErrorLine(gs.probeError, 90)}`);
  for (const e of portEvents.slice(-2)) ev.push(eventLine(e));
  const seeOwner = `See the owner as an admin: \`sudo ss -tlnp | grep :${port}\`.`;
  const killNote = ctx.host.allowKillPortOwner
    ? 'allowKillPortOwner is on, but clawmedic only stops a port owner it can see (pid re-checked on the host); this one belongs to another user, so an admin must stop it.'
    : 'With allowKillPortOwner in the inventory clawmedic stops a port owner it can see (pid re-checked on the host) and starts the gateway; this one belongs to another user, so an admin must stop it.';
  return finding({
    cause: 'port_conflict',
    confidence: owner || gs?.probeForeignHttp ? 'high' : 'medium',
    weight: 93,
    summary: owner
      ? `Port ${port} is held by ${owner.process ?? owner.commandLine} (pid ${owner.pid ?? '?'}), not by the gateway, so the gateway cannot listen`
      : hidden
        ? `Port ${port} is held by a process of another Linux user (invisible to ${ctx.host.ssh.user}), not by the gateway, so the gateway cannot listen`
        : `Something that is not the gateway holds port ${port}`,
    evidence: ev,
    userActions: owner
      ? [`Stop ${owner.process ?? 'the process'} (pid ${owner.pid ?? '?'}) or move it off port ${port}, then start the gateway again.`]
      : [seeOwner, killNote, `Stop that process or move it off port ${port}, then start the gateway.`],
    lastSeen: lastMsOf(portEvents),
    current: true,
    details: {
      portOwner: owner
        ? { pid: owner.pid, process: owner.process ?? undefined, user: owner.user, visible: true }
        : { visible: false },
    },
  });
};
