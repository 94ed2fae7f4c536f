/**
 * /mute, /unmute and /ack: what they write (mutes, ack requests: src/state) and the reply they render.
 * The monitor plugs them into the router; `poke` lets it reread its controls and tick the host now when
 * this process follows it (another process's monitor picks them up through the control counter).
 */
import { humanDuration } from '../util/human-duration.js';
import type { Actor, Reply } from '../domain/types.js';
import type { AlertCommands } from '../domain/ports.js';
import type { MuteStore } from '../state/mute-store.js';
import type { IncidentStore } from '../state/incident-store.js';
import type { AckRequests } from '../state/ack-requests.js';
import { CAUSE_LABELS } from './render-incident.js';

export interface AlertCommandDeps {
  /** Inventory host names (a command naming another host is refused). */
  hosts: ReadonlySet<string>;
  mutes: Pick<MuteStore, 'mute' | 'unmute'>;
  incidents: Pick<IncidentStore, 'loadOpen'>;
  acks: Pick<AckRequests, 'request'>;
  /** A control of `host` changed: reread the counter; `tick`: also evaluate the host now. */
  poke(host: string, tick: boolean): void;
}

function actorName(a: Actor): string {
  return a.displayName ?? `${a.platform}:${a.userId}`;
}

function whenShort(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}

export function createAlertCommands(deps: AlertCommandDeps): AlertCommands {
  const { mutes, poke } = deps;
  const checkHost = (host: string): Reply | undefined =>
    deps.hosts.has(host) ? undefined : { title: `Unknown host "${host.slice(0, 40)}".`, tone: 'error' };

  return {
    async mute(host, seconds, reason, by) {
      const bad = checkHost(host);
      if (bad) return bad;
      const m = await mutes.mute(host, seconds, reason, actorName(by));
      poke(host, false);
      return {
        title: `${host}: alerts muted for ${humanDuration(seconds)} (until ${whenShort(m.until)}) by ${m.by}.`,
        tone: 'info',
        body: [
          reason ? `Reason: ${reason}` : 'No reason given.',
          'Alerts are held, not lost: what still fires when the mute ends is sent then. Recovery notices of alerts already sent still come.',
        ],
      };
    },
    async unmute(host, by) {
      const bad = checkHost(host);
      if (bad) return bad;
      const was = await mutes.unmute(host);
      poke(host, true);
      return was
        ? { title: `${host}: alerts resumed by ${actorName(by)} (muted by ${was.by}${was.reason ? `: ${was.reason}` : ''}).`, tone: 'info' }
        : { title: `${host}: alerts were not muted.`, tone: 'info' };
    },
    async ack(host, by) {
      const bad = checkHost(host);
      if (bad) return bad;
      const open = (await deps.incidents.loadOpen(host)).filter((i) => i.phase === 'firing');
      const pending = open.filter((i) => !i.ackedBy);
      if (open.length === 0) return { title: `${host}: nothing is firing, nothing to ack.`, tone: 'info' };
      if (pending.length === 0) {
        return { title: `${host}: already acked by ${open.map((i) => i.ackedBy).join(', ')}.`, tone: 'info' };
      }
      const req = { by: actorName(by), at: Date.now() };
      // The host's owner (this process or another) applies it on its next tick.
      await deps.acks.request(host, req);
      poke(host, true);
      return {
        title: `${host}: acked by ${req.by}: ${pending.map((i) => CAUSE_LABELS[i.cause] ?? i.cause).join('; ')}.`,
        tone: 'info',
        body: ['Reminders stop. The recovery notice still comes when it resolves.'],
      };
    },
  };
}
