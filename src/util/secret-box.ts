/**
 * Encrypts the few secrets clawmedic must hand from one process to another through Redis (a fresh
 * tokenized dashboard link on its way to the requester, a Discord interaction token kept for later
 * edits): AES-256-GCM with a key derived (HKDF-SHA256, its own label) from CLAWMEDIC_JOB_KEY, which
 * never goes to Redis. Each sealed value carries its expiry and is bound to a purpose and a context
 * (who it is for), both authenticated: an expired, altered or moved value is refused, never opened.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { JOB_KEY_ENV, JOB_KEY_MIN_LENGTH } from './job-signer.js';

/** What a sealed value is for; part of the authenticated data so one kind never passes for another. */
export type SealPurpose = 'delivery-secret' | 'interaction-token';

/** Format tag of sealed values; a new format gets a new tag. */
const VERSION = 's1';
/** HKDF label: keeps this key apart from the HMAC key the job signer uses (the raw CLAWMEDIC_JOB_KEY). */
const HKDF_INFO = 'clawmedic secret-at-rest aes-256-gcm v1';
const HKDF_SALT = 'clawmedic';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed value whose expiry has passed: it is not opened (the secret behind it may be stale or replayed). */
export class SealedSecretExpiredError extends Error {
  constructor(readonly purpose: SealPurpose, readonly expiredAt: number) {
    super(`a sealed ${purpose} expired at ${new Date(expiredAt).toISOString()}; it is not opened`);
    this.name = 'SealedSecretExpiredError';
  }
}

/**
 * A sealed value that does not open: malformed, altered, bound to another purpose or recipient,
 * or sealed with another key (CLAWMEDIC_JOB_KEY changed, or differs between processes). Never
 * carries the value or the key.
 */
export class SealedSecretRejectedError extends Error {
  constructor(readonly purpose: SealPurpose, reason: string) {
    super(`a sealed ${purpose} was refused: ${reason}`);
    this.name = 'SealedSecretRejectedError';
  }
}

const b64 = (buf: Buffer): string => buf.toString('base64url');

/** Seals and opens short-lived secrets with one 32-byte AES key. */
export class SecretBox {
  private readonly key: Buffer;

  /** `key`: exactly 32 bytes (use fromJobKey or ephemeral rather than building one by hand). */
  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
    this.key = Buffer.from(key);
  }

  /** The box of an install: its key derived from CLAWMEDIC_JOB_KEY with HKDF and a label of its own. */
  static fromJobKey(jobKey: string): SecretBox {
    const ikm = Buffer.from(jobKey, 'utf8');
    if (ikm.length < JOB_KEY_MIN_LENGTH) {
      throw new Error(`${JOB_KEY_ENV} must be at least ${JOB_KEY_MIN_LENGTH} characters (generate one with: openssl rand -hex 32)`);
    }
    return new SecretBox(Buffer.from(hkdfSync('sha256', ikm, HKDF_SALT, HKDF_INFO, 32)));
  }

  /** A box with a random key: one-process tests, where nothing sealed outlives the process. */
  static ephemeral(): SecretBox {
    return new SecretBox(randomBytes(32));
  }

  /**
   * Encrypt `plaintext` for `purpose` and `context` (e.g. the recipient), valid for `ttlMs`.
   * Returns `s1.<expiresAt>.<iv>.<ciphertext>.<tag>` (base64url parts): safe to store, useless without the key.
   */
  seal(purpose: SealPurpose, context: string, plaintext: string, ttlMs: number, now = Date.now()): string {
    if (!(ttlMs > 0)) throw new Error('SecretBox.seal: ttlMs must be positive');
    const expiresAt = Math.floor(now + ttlMs);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(purpose, context, expiresAt));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, String(expiresAt), b64(iv), b64(ct), b64(cipher.getAuthTag())].join('.');
  }

  /**
   * The plaintext of a value sealed for the same purpose and context, if it has not expired.
   * Throws SealedSecretExpiredError or SealedSecretRejectedError otherwise; never returns a guess.
   */
  open(purpose: SealPurpose, context: string, sealed: unknown, now = Date.now()): string {
    if (typeof sealed !== 'string') throw new SealedSecretRejectedError(purpose, 'not a sealed value');
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) throw new SealedSecretRejectedError(purpose, 'not a sealed value of a known format');
    const [, exp, ivText, ctText, tagText] = parts as [string, string, string, string, string];
    if (!/^\d{1,16}$/.test(exp)) throw new SealedSecretRejectedError(purpose, 'malformed expiry');
    const expiresAt = Number(exp);
    const iv = Buffer.from(ivText, 'base64url');
    const ct = Buffer.from(ctText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SealedSecretRejectedError(purpose, 'malformed');
    let plaintext: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(purpose, context, expiresAt));
      decipher.setAuthTag(tag);
      plaintext = Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
    } catch {
      // GCM says only "unable to authenticate": any of these is possible, and none is told apart on purpose.
      throw new SealedSecretRejectedError(
        purpose,
        `it was altered, is meant for another recipient, or was sealed with another key (${JOB_KEY_ENV} changed or differs between clawmedic processes)`,
      );
    }
    // Checked after authentication, so an edited expiry is "altered", not "expired".
    if (now > expiresAt) throw new SealedSecretExpiredError(purpose, expiresAt);
    return plaintext;
  }
}

/** The authenticated data: format, purpose, expiry and context, unambiguously joined. */
function aad(purpose: SealPurpose, context: string, expiresAt: number): Buffer {
  return Buffer.from(JSON.stringify([VERSION, purpose, expiresAt, context]), 'utf8');
}
