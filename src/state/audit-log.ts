/**
 * Append-only audit trail in Redis streams: every router decision and every job outcome.
 * One global stream and one per host (what /history reads). Values are redacted on write.
 */
import type { RedisClient } from './redis.js';
import { DEFAULTS } from '../constants.js';
import type { Actor, ChatRef } from '../domain/types.js';
import { redact } from '../util/redact.js';
import type { KeySpace } from './key-space.js';

/** What happened; "decision" entries come from the router, "outcome" entries from workers. */
export type AuditEvent =
  | 'allowed'
  | 'denied'
  | 'confirm_requested'
  | 'confirmed'
  | 'cancelled'
  | 'expired'
  | 'joined'
  | 'busy'
  | 'job_started'
  | 'job_succeeded'
  | 'job_failed'
  | 'step'
  | 'fix_outcome'
  /** A fix whose process died mid-run, found and closed by another process (issue 13.2). */
  | 'interrupted'
  | 'escalated'
  | 'alert'
  /** An alert reached its chat (deliveries of alerts are audited both ways). */
  | 'delivered'
  /** A delivery was given up: the chat refuses us, or it could not be made before it expired. */
  | 'undelivered'
  /** A delivery was not sent because a newer edit of the same message was already waiting to be sent (notify-worker.ts). */
  | 'superseded'
  /** Stored or queued data failed its signature or validation (forged or edited): nothing ran. */
  | 'refused';

export interface AuditEntry {
  event: AuditEvent;
  /** The command or action: status, diagnose, fix, confirm, doctor_fix... */
  action: string;
  host?: string;
  actor?: Pick<Actor, 'platform' | 'userId'>;
  chat?: Pick<ChatRef, 'platform' | 'chatId'>;
  jobId?: string;
  /** Short free text: reason of a denial, verdict, exit code and duration of a step. */
  detail?: string;
}

/** A stored entry with its stream id and time. */
export interface AuditRecord extends AuditEntry {
  id: string;
  at: string;
}

/** Writes and reads the audit streams (KeySpace.audit). */
export class AuditLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {}

  private key(host?: string): string {
    return this.keys.audit(host);
  }

  /** Append an entry to the global stream and, when it names a host, to that host's stream. */
  async record(entry: AuditEntry): Promise<void> {
    const fields: string[] = ['at', new Date().toISOString(), 'event', entry.event, 'action', entry.action];
    if (entry.host) fields.push('host', entry.host);
    if (entry.actor) fields.push('actor', `${entry.actor.platform}:${entry.actor.userId}`);
    if (entry.chat) fields.push('chat', `${entry.chat.platform}:${entry.chat.chatId}`);
    if (entry.jobId) fields.push('job', entry.jobId);
    if (entry.detail) fields.push('detail', redact(entry.detail).slice(0, 2000));
    const pipe = this.redis.multi();
    pipe.xadd(this.key(), 'MAXLEN', '~', String(DEFAULTS.auditMaxLen), '*', ...fields);
    if (entry.host) pipe.xadd(this.key(entry.host), 'MAXLEN', '~', String(DEFAULTS.auditMaxLen), '*', ...fields);
    await pipe.exec();
  }

  /** Newest entries first, for /history <host> (or the global trail without a host). */
  async recent(host: string | undefined, limit: number): Promise<AuditRecord[]> {
    const rows = await this.redis.xrevrange(this.key(host), '+', '-', 'COUNT', limit);
    return rows.map(([id, flat]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
      const [platform, ...userId] = (f.actor ?? '').split(':');
      const [chatPlatform, ...chatId] = (f.chat ?? '').split(':');
      return {
        id,
        at: f.at ?? '',
        event: f.event as AuditEvent,
        action: f.action ?? '',
        host: f.host,
        actor: f.actor ? { platform: platform as Actor['platform'], userId: userId.join(':') } : undefined,
        chat: f.chat ? { platform: chatPlatform as ChatRef['platform'], chatId: chatId.join(':') } : undefined,
        jobId: f.job,
        detail: f.detail,
      };
    });
  }
}
