/**
 * The queues and Redis-backed stores one connection carries. A process builds them twice: on the
 * fail-fast producer (router) and on the job connection, which waits a Redis failover out.
 */
import type { KeySpace } from '../state/key-space.js';
import { AuditLog } from '../state/audit-log.js';
import { FixAttempts } from '../state/fix-attempts.js';
import { Inflight } from '../state/inflight.js';
import { Notifier } from '../jobs/notifier.js';
import { createQueues, type Queues } from '../jobs/queues.js';
import type { RedisClient } from '../state/redis.js';
import { ButtonStore } from '../state/button-store.js';
import type { Logger } from '../util/logger.js';
import type { JobSigner } from '../util/job-signer.js';
import type { SecretBox } from '../util/secret-box.js';

/** Queues and stores on one connection. */
export interface Stores {
  queues: Queues;
  audit: AuditLog;
  buttons: ButtonStore;
  inflight: Inflight;
  fixAttempts: FixAttempts;
  notifier: Notifier;
}

/** Build the queues and stores on `redis`. */
export function createStores(redis: RedisClient, keys: KeySpace, signer: JobSigner, box: SecretBox, logger: Logger): Stores {
  const queues = createQueues(redis, keys, (err) => logger.warn({ err: err.message }, 'queue connection error'));
  return {
    queues,
    audit: new AuditLog(redis, keys),
    buttons: new ButtonStore(redis, keys, signer),
    inflight: new Inflight(redis, keys),
    fixAttempts: new FixAttempts(redis, keys),
    notifier: new Notifier(queues, redis, keys, box),
  };
}
