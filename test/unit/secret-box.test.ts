import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SealedSecretExpiredError, SealedSecretRejectedError, SecretBox } from '../../src/util/secret-box.js';

const LINK = 'http://127.0.0.1:18789/#token=standin-dashboard-token-7c1e9a';
const JOB_KEY = 'a'.repeat(16) + randomBytes(24).toString('hex');
const FOR = 'discord:310000000000000001';

/** Flip one bit of the base64url part `index` of a sealed value. */
function flip(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const buf = Buffer.from(parts[index]!, 'base64url');
  buf[0]! ^= 1;
  parts[index] = buf.toString('base64url');
  return parts.join('.');
}

describe('SecretBox (AES-256-GCM, key from CLAWMEDIC_JOB_KEY via HKDF)', () => {
  const box = SecretBox.fromJobKey(JOB_KEY);

  it('round trip: the same key (another process of the install) opens what was sealed', () => {
    const sealed = box.seal('delivery-secret', FOR, LINK, 60_000);
    expect(SecretBox.fromJobKey(JOB_KEY).open('delivery-secret', FOR, sealed)).toBe(LINK);
    // Nothing of the plaintext shows in the sealed text; two seals of one value differ (fresh IV).
    expect(sealed).not.toContain('token');
    expect(sealed).not.toContain(Buffer.from(LINK).toString('base64url').slice(0, 12));
    expect(box.seal('delivery-secret', FOR, LINK, 60_000)).not.toBe(sealed);
    expect(sealed).toMatch(/^s1\.\d+\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('an empty secret and non-ASCII text round-trip too', () => {
    expect(box.open('interaction-token', 'k', box.seal('interaction-token', 'k', '', 1000))).toBe('');
    expect(box.open('interaction-token', 'k', box.seal('interaction-token', 'k', 'ключ ✓', 1000))).toBe('ключ ✓');
  });

  it('tampered ciphertext, tag, IV or expiry is refused', () => {
    const sealed = box.seal('delivery-secret', FOR, LINK, 60_000);
    for (const i of [2, 3, 4]) expect(() => box.open('delivery-secret', FOR, flip(sealed, i))).toThrow(SealedSecretRejectedError);
    // A later expiry written over the sealed one (to keep a link alive longer) is "altered", not accepted.
    const parts = sealed.split('.');
    parts[1] = String(Number(parts[1]) + 3_600_000);
    expect(() => box.open('delivery-secret', FOR, parts.join('.'))).toThrow(SealedSecretRejectedError);
    // Truncated, garbage, wrong type.
    expect(() => box.open('delivery-secret', FOR, sealed.slice(0, -3))).toThrow(SealedSecretRejectedError);
    expect(() => box.open('delivery-secret', FOR, 'http://x/#token=abc')).toThrow(SealedSecretRejectedError);
    expect(() => box.open('delivery-secret', FOR, undefined)).toThrow(SealedSecretRejectedError);
  });

  it('a value moved to another recipient or another purpose is refused', () => {
    const sealed = box.seal('delivery-secret', FOR, LINK, 60_000);
    expect(() => box.open('delivery-secret', 'discord:310000000000000009', sealed)).toThrow(SealedSecretRejectedError);
    expect(() => box.open('interaction-token', FOR, sealed)).toThrow(SealedSecretRejectedError);
  });

  it('the wrong key (CLAWMEDIC_JOB_KEY changed) is refused with a message that names the variable and leaks nothing', () => {
    const sealed = box.seal('delivery-secret', FOR, LINK, 60_000);
    const other = SecretBox.fromJobKey(randomBytes(32).toString('hex'));
    let err: unknown;
    try {
      other.open('delivery-secret', FOR, sealed);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SealedSecretRejectedError);
    const message = (err as Error).message;
    expect(message).toContain('CLAWMEDIC_JOB_KEY');
    expect(message).not.toContain('token=');
    expect(message).not.toContain(JOB_KEY);
    expect(message).not.toContain(sealed);
    expect(JSON.stringify(err)).not.toContain(LINK);
  });

  it('an expired value is refused, even with the right key', () => {
    const now = Date.now();
    const sealed = box.seal('interaction-token', 'discord:job:1', 'itoken', 1000, now);
    expect(box.open('interaction-token', 'discord:job:1', sealed, now + 1000)).toBe('itoken');
    expect(() => box.open('interaction-token', 'discord:job:1', sealed, now + 1001)).toThrow(SealedSecretExpiredError);
  });

  it('the derived key is not the signing key: HMAC and AES keys differ by label', () => {
    // Same input, different derivations: a box built straight from the raw key bytes cannot open.
    const sealed = box.seal('delivery-secret', FOR, LINK, 60_000);
    const raw = new SecretBox(Buffer.from(JOB_KEY, 'utf8').subarray(0, 32));
    expect(() => raw.open('delivery-secret', FOR, sealed)).toThrow(SealedSecretRejectedError);
  });

  it('a short or missing key is refused at construction, naming the variable', () => {
    expect(() => SecretBox.fromJobKey('short')).toThrow(/CLAWMEDIC_JOB_KEY must be at least 32 characters/);
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32-byte key/);
    expect(() => box.seal('delivery-secret', FOR, LINK, 0)).toThrow(/ttlMs/);
  });
});
