/**
 * Issue 12.7: the logger redacts nested values, keeps an error's message and stack (redacted), and a
 * log call never throws. Each case writes through the real pino logger into a captured stream.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/util/logger.js';

const GW = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6';
const BOT = `123456789:${'A'.repeat(35)}`;

function capture(): { lines: () => Array<Record<string, unknown>>; text: () => string; log: ReturnType<typeof createLogger> } {
  const chunks: string[] = [];
  const log = createLogger('debug', { write: (s: string) => void chunks.push(s) });
  return { log, text: () => chunks.join(''), lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logger', () => {
  it('redacts secrets nested in objects, arrays, JSON strings and under secret-named keys', () => {
    const c = capture();
    c.log.info(
      {
        outer: { inner: { cmd: `openclaw gateway run --token ${GW}` } },
        list: [`OPENCLAW_GATEWAY_TOKEN=${GW}`, { url: `http://h:18789/#token=${GW}` }],
        body: JSON.stringify({ nested: { authToken: GW } }),
        gatewayToken: 'short-but-secret',
        headers: { Authorization: `Bot ${BOT}` },
      },
      `sending with ${BOT}`,
    );
    const text = c.text();
    expect(text).not.toContain(GW);
    expect(text).not.toContain(BOT);
    expect(text).not.toContain('short-but-secret');
    const [line] = c.lines();
    expect((line!.outer as { inner: { cmd: string } }).inner.cmd).toBe('openclaw gateway run --token <redacted>');
    expect(line!.gatewayToken).toBe('<redacted>');
  });

  it('keeps an error\'s type, message and stack, redacted, whether passed alone or as {err}', () => {
    const c = capture();
    const err = new TypeError(`connect to http://h:18789/#token=${GW} failed`);
    c.log.error({ err }, 'boom');
    c.log.error(err);
    for (const line of c.lines()) {
      const e = line.err as { type: string; message: string; stack: string };
      expect(e.type).toBe('TypeError');
      expect(e.message).toBe('connect to http://h:18789/#token=<redacted> failed');
      expect(e.stack).toContain('logger.test.ts');
      expect(JSON.stringify(e)).not.toContain(GW);
    }
  });

  it('never throws: cycles, BigInt, a field ending in TOKEN=, a throwing getter', () => {
    const c = capture();
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    const hostile = {
      get boom(): string {
        throw new Error('getter exploded');
      },
    };
    expect(() => c.log.warn({ cyclic, n: 10n, field: 'x OPENCLAW_GATEWAY_TOKEN="abc\\' }, 'odd values')).not.toThrow();
    expect(() => c.log.warn(hostile, 'hostile')).not.toThrow();
    const [first, second] = c.lines();
    expect((first!.cyclic as { self: string }).self).toBe('[circular]');
    expect(first!.n).toBe('10');
    expect(second!.msg).toBe('hostile');
  });
});
