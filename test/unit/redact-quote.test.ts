import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { redact, registerSecret } from '../../src/util/redact.js';
import { shellJoin, shellQuote } from '../../src/util/shell-quote.js';

describe('redact', () => {
  it('scrubs OpenClaw token forms', () => {
    const dash = '{"ok":true,"url":"http://127.0.0.1:18789/#token=abc123secretvalue","browserUrl":"x#bootstrapToken=zzz&bootstrapProfile=owner"}';
    const out = redact(dash);
    expect(out).not.toContain('abc123secretvalue');
    expect(out).not.toContain('zzz&');
    expect(out).toContain('bootstrapProfile=owner');
    expect(redact('ExecStart=/usr/bin/openclaw gateway run --token s3cr3t-tok')).toBe('ExecStart=/usr/bin/openclaw gateway run --token <redacted>');
    expect(redact('OPENCLAW_GATEWAY_TOKEN=abcdef123')).toBe('OPENCLAW_GATEWAY_TOKEN=<redacted>');
    expect(redact('"token": "hunter2hunter2"')).toBe('"token": "<redacted>"');
  });
  it('scrubs bot tokens, keys and registered secrets', () => {
    // Built from parts so no token-shaped literal sits in the repository.
    const botToken = `${'1234'}${'56789'}:${'AAHdqTcv'}${'x'.repeat(27)}`;
    expect(redact(`GET /bot${botToken}/getMe`)).toBe('GET /bot<redacted>/getMe');
    const pem = ['-----BEGIN OPENSSH ', 'PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH ', 'PRIVATE KEY-----'].join('');
    expect(redact(pem)).toBe('<redacted private key>');
    registerSecret('my-very-own-secret');
    expect(redact('x my-very-own-secret y')).toBe('x <redacted> y');
  });
});

describe('shellQuote', () => {
  it('keeps plain words and quotes everything else so the shell sees one literal word', () => {
    expect(shellQuote('openclaw')).toBe('openclaw');
    const nasty = [`$(touch /tmp/pwned)`, `a'b`, '`id`', 'x; rm -rf /', 'new\nline', '', '*', '~root', '"dq"'];
    const echoed = execFileSync('sh', ['-c', `printf '%s\\0' ${shellJoin(nasty)}`]).toString().split('\0').slice(0, -1);
    expect(echoed).toEqual(nasty);
  });
  it('refuses NUL', () => {
    expect(() => shellQuote('a\0b')).toThrow();
  });
});
