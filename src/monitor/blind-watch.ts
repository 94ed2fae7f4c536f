/**
 * Whether this process is blind (cannot reach Redis, so it cannot see or send anything). Logged when it
 * starts and ends; after a spell longer than `noticeAfterMs` the chats are told once, across processes,
 * that there was a gap (held alerts follow).
 */
import type { Logger } from '../util/logger.js';
import type { AlertSender } from '../alerts/alert-sender.js';
import { renderBlind } from '../alerts/render-incident.js';
import type { BlindNotice } from '../state/blind-notice.js';

export class BlindWatch {
  private since: number | undefined;

  constructor(
    private readonly deps: {
      processId: string;
      allHosts: string[];
      notice: Pick<BlindNotice, 'claim'>;
      sender: Pick<AlertSender, 'notice'>;
      logger: Pick<Logger, 'info' | 'warn'>;
      noticeAfterMs: number;
    },
  ) {}

  get blind(): boolean {
    return this.since !== undefined;
  }

  set(blind: boolean): void {
    const { processId, logger } = this.deps;
    if (blind && this.since === undefined) {
      this.since = Date.now();
      logger.warn({ processId }, 'clawmedic is blind: Redis is unreachable; not reporting any host as down');
    } else if (!blind && this.since !== undefined) {
      const since = this.since;
      this.since = undefined;
      logger.info({ processId, blindMs: Date.now() - since }, 'clawmedic can see again');
      void this.tell(since).catch(() => undefined);
    }
  }

  private async tell(since: number): Promise<void> {
    if (Date.now() - since < this.deps.noticeAfterMs) return;
    if (!(await this.deps.notice.claim(this.deps.processId))) return;
    await this.deps.sender.notice(this.deps.allHosts, renderBlind('Redis was unreachable; clawmedic could not see or send anything', since), `blind:${since}`);
  }
}
