import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fingerprintOf, fingerprintsMatch, keyTypeOf } from '../../src/remote/host-key.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'clawmedic-hostkey-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Generate a key with ssh-keygen and return its wire-format blob and ssh-keygen's own fingerprint. */
let seq = 0;
function keyWithSshKeygen(type: 'ed25519' | 'rsa' | 'ecdsa'): { blob: Buffer; expected: string; line: string } {
  const file = path.join(dir, `key_${type}_${seq++}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', file]);
  const line = readFileSync(`${file}.pub`, 'utf8').trim();
  const blob = Buffer.from(line.split(' ')[1]!, 'base64');
  const expected = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  return { blob, expected, line };
}

describe('fingerprintOf', () => {
  for (const type of ['ed25519', 'rsa', 'ecdsa'] as const) {
    it(`equals ssh-keygen -lf for a ${type} key`, () => {
      const { blob, expected } = keyWithSshKeygen(type);
      expect(expected).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      expect(fingerprintOf(blob)).toBe(expected);
    });
  }

  it('never carries base64 padding', () => {
    expect(fingerprintOf(Buffer.from('x'))).not.toContain('=');
  });
});

describe('fingerprintsMatch', () => {
  const { blob } = keyWithSshKeygen('ed25519');
  const fp = fingerprintOf(blob);
  it('accepts the identical fingerprint', () => {
    expect(fingerprintsMatch(fp, `${fp}`)).toBe(true);
  });
  it('rejects a fingerprint differing in one character, or in length, or empty', () => {
    const last = fp.at(-1) === 'A' ? 'B' : 'A';
    expect(fingerprintsMatch(fp, fp.slice(0, -1) + last)).toBe(false);
    expect(fingerprintsMatch(fp, fp.slice(0, -1))).toBe(false);
    expect(fingerprintsMatch(fp, '')).toBe(false);
    expect(fingerprintsMatch('', '')).toBe(true);
  });
  it('is case-sensitive (base64 is)', () => {
    expect(fingerprintsMatch(fp, fp.toLowerCase())).toBe(fp === fp.toLowerCase());
  });
});

describe('keyTypeOf', () => {
  it('reads the key type from the blob like the .pub file names it', () => {
    for (const type of ['ed25519', 'rsa', 'ecdsa'] as const) {
      const { blob, line } = keyWithSshKeygen(type);
      expect(keyTypeOf(blob)).toBe(line.split(' ')[0]);
    }
  });
  it('returns "unknown" for garbage instead of throwing', () => {
    expect(keyTypeOf(Buffer.alloc(2))).toBe('unknown');
    expect(keyTypeOf(Buffer.from([0, 0, 1, 0, 65]))).toBe('unknown');
  });
});
