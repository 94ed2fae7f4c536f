/**
 * What people (and running fixes) ask of one host's monitor between ticks: a pending ack and the mutes
 * in force. Read from Redis only when the process's change counter moved (state/control-seq.ts), a mute
 * ran out, or the last read is older than controlsRefreshMs; otherwise the last read is reused.
 */
import { MONITOR_DEFAULTS } from '../constants.js';
import type { AckRequest, AckRequests } from '../state/ack-requests.js';
import type { HostMutes, MuteStore } from '../state/mute-store.js';

export interface Controls {
  mutes: HostMutes;
  /** An ack asked for since the last read (taken: the caller applies it once). */
  ack?: AckRequest;
}

export class HostControls {
  /** Mutes as last read, and when they must be read again. */
  private last: { seq: string | null | undefined; mutes: HostMutes; readAt: number; until: number } | undefined;

  constructor(
    private readonly host: string,
    private readonly acks: Pick<AckRequests, 'take'>,
    private readonly mutes: Pick<MuteStore, 'get'>,
    /** The process's change counter (undefined: read every time). */
    private readonly readSeq?: () => Promise<string | null>,
  ) {}

  async read(now: number): Promise<Controls> {
    const seq = await this.readSeq?.();
    const c = this.last;
    if (c && seq !== undefined && seq === c.seq && now < c.until && now - c.readAt < MONITOR_DEFAULTS.controlsRefreshMs) return { mutes: c.mutes };
    const ack = await this.acks.take(this.host);
    const mutes = await this.mutes.get(this.host);
    // A mute ends by its key's TTL without a write: read again when the first one runs out.
    const until = Math.min(mutes.person?.until ?? Infinity, mutes.fix?.until ?? Infinity);
    this.last = { seq, mutes, readAt: now, until };
    return { mutes, ack };
  }
}
