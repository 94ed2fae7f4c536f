/**
 * Authenticates what clawmedic stores in Redis and later acts on (queued fix jobs, button state):
 * an HMAC-SHA256 over a canonical JSON of the payload, keyed by CLAWMEDIC_JOB_KEY from the
 * environment. The key never goes to Redis, so write access to Redis alone cannot forge a job.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a signature is for; part of the signed text so a button's signature never passes as a job's. */
export type SignPurpose = 'fix-job' | 'button' | 'fix-run';

/** Fewest characters accepted for CLAWMEDIC_JOB_KEY (`openssl rand -hex 32` gives 64). */
export const JOB_KEY_MIN_LENGTH = 32;

/** The environment variable that holds the key (named in errors and docs). */
export const JOB_KEY_ENV = 'CLAWMEDIC_JOB_KEY';

/**
 * JSON with object keys sorted at every depth and `undefined` members dropped (as JSON.stringify
 * does), so the same value always gives the same text whatever order its keys were written in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    // undefined / functions have no JSON form; inside arrays JSON.stringify writes null for them.
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** Signs and verifies payloads bound to a purpose and an id (job id, button token). */
export class JobSigner {
  private readonly key: Buffer;

  constructor(key: string | Buffer) {
    const buf = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    if (buf.length < JOB_KEY_MIN_LENGTH) {
      throw new Error(`${JOB_KEY_ENV} must be at least ${JOB_KEY_MIN_LENGTH} characters (generate one with: openssl rand -hex 32)`);
    }
    this.key = Buffer.from(buf);
  }

  /** A signer with a random key: one-process demos and tests, where nothing outlives the process. */
  static ephemeral(): JobSigner {
    return new JobSigner(randomBytes(32));
  }

  /** hex HMAC-SHA256 of `purpose`, `id` and the canonical payload. */
  sign(purpose: SignPurpose, id: string, payload: unknown): string {
    return createHmac('sha256', this.key).update(canonicalJson([purpose, id, payload])).digest('hex');
  }

  /** Constant-time check; false for a missing or malformed signature. */
  verify(purpose: SignPurpose, id: string, payload: unknown, signature: unknown): boolean {
    if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) return false;
    const expected = Buffer.from(this.sign(purpose, id, payload), 'hex');
    return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
  }
}
