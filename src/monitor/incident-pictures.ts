/**
 * A host monitor's incident pictures: the renderer kept warm while an incident that will have a picture is
 * open (from its first signal, so the alert's picture does not wait for the renderer to start), and the
 * pictures of a tick's new alerts made ahead and queued once the tick's series are saved.
 */
import type { Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';
import type { AlertSender } from '../alerts/alert-sender.js';
import { hostPicture } from '../alerts/picture-ref.js';
import type { PictureSource } from '../alerts/picture-source.js';
import type { Incident } from '../domain/incident.js';

export class HostIncidentPictures {
  /** Incidents announced this tick: their picture is queued once the tick's series are saved. */
  private readonly due = new Set<Incident>();

  constructor(
    private readonly host: string,
    private readonly sender: AlertSender,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly pictures?: Pick<PictureSource, 'warm' | 'prepare'>,
  ) {}

  /** An incident was announced: its picture follows after the save (an unreachable host has nothing new to show). */
  announced(inc: Incident): void {
    if (inc.family !== 'host_unreachable') this.due.add(inc);
  }

  /** Start or keep this process's picture renderer while an incident that would have a picture is open. */
  warm(open: Iterable<Incident>): void {
    if (!this.pictures) return;
    // An unreachable host gets no picture (nothing new to show).
    for (const inc of open) {
      if (inc.family !== 'host_unreachable') return this.pictures.warm();
    }
  }

  /** The incident pictures of this tick's new alerts (after the save, so they show this tick's counts too). */
  async send(now: number): Promise<void> {
    if (this.due.size === 0) return;
    const due = [...this.due];
    this.due.clear();
    for (const inc of due) {
      try {
        // Made here first, with the renderer warmed at the incident's first signal; the sender finds it in Redis.
        await this.pictures?.prepare(hostPicture(inc.host, inc.id, now));
        await this.sender.send('picture', inc, now);
      } catch (err) {
        // A picture is an extra: the alert went out; never retried, never held against the host.
        this.logger.warn({ host: this.host, err: redact(err instanceof Error ? err.message : String(err)) }, 'incident picture not queued');
      }
    }
  }
}
