/** What the router is given (main.ts and tests build it); its parts (enqueue, refusals) take it too. */
import type { AppConfig } from '../config/schema.js';
import type { AuditLog } from '../state/audit-log.js';
import type { AlertCommands } from '../domain/ports.js';
import type { Queues } from '../jobs/queues.js';
import type { Notifier } from '../jobs/notifier.js';
import type { Inflight } from '../state/inflight.js';
import type { FixAttempts } from '../state/fix-attempts.js';
import type { JobSigner } from '../util/job-signer.js';
import type { Logger } from '../util/logger.js';
import type { RequestLimits } from './request-limits.js';
import type { StatusSlots } from '../state/status-slots.js';
import type { ButtonStore } from '../state/button-store.js';

/** Everything the router needs, injected by main.ts (and by tests). */
export interface RouterDeps {
  config: AppConfig;
  queues: Queues;
  buttons: ButtonStore;
  audit: AuditLog;
  inflight: Inflight;
  fixAttempts: FixAttempts;
  logger: Logger;
  /** Per-person, per-chat and unknown-user limits (issue 12.6), checked before anything else is done. */
  limits: RequestLimits;
  /** The cap on each chat's waiting /status jobs. */
  statusSlots: StatusSlots;
  /** Signs queued fix jobs (CLAWMEDIC_JOB_KEY): the fix worker runs only jobs it can verify. */
  signer: JobSigner;
  /** Sends escalations to the admins (absent in tests that only look at replies). */
  notifier?: Pick<Notifier, 'send'>;
  /** Hook for alert commands (issue 6); absent → a clear "not configured" reply. */
  alerts?: AlertCommands;
}
