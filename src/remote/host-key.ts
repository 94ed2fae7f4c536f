/**
 * Host-key fingerprints in OpenSSH's own form, so the pin a user copies from `ssh-keygen -lf`
 * or `clawmedic hosts fingerprint` compares byte for byte with what the transport sees.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Fingerprint of a raw SSH public-key blob (wire format) as OpenSSH prints it: `SHA256:<base64, no padding>`.
 * ssh2's `hostHash` gives hex instead, which never matches a pin copied from OpenSSH tools.
 */
export function fingerprintOf(rawKey: Buffer): string {
  return `SHA256:${createHash('sha256').update(rawKey).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Compare two fingerprints in constant time (no early exit on the first differing byte).
 * Different lengths are simply unequal: the length of a public fingerprint is not a secret.
 */
export function fingerprintsMatch(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ba.length !== bb.length) return false;
  return timingSafeEqual(ba, bb);
}

/**
 * Key type named inside a raw SSH public-key blob (first length-prefixed string, e.g. "ssh-ed25519").
 * Returns "unknown" for a blob too short to hold one, rather than throwing on hostile input.
 */
export function keyTypeOf(rawKey: Buffer): string {
  if (rawKey.length < 4) return 'unknown';
  const len = rawKey.readUInt32BE(0);
  if (len === 0 || len > 64 || rawKey.length < 4 + len) return 'unknown';
  return rawKey.subarray(4, 4 + len).toString('latin1');
}
