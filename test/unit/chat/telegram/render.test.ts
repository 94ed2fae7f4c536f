import { describe, expect, it } from 'vitest';
import {
  DETAIL_FILENAME,
  DETAIL_INLINE_MAX,
  TELEGRAM_TEXT_LIMIT,
  escapeHtml,
  renderTelegram,
} from '../../../../src/chat/telegram/render.js';
import type { Reply } from '../../../../src/domain/types.js';
import { parseTelegramHtml } from '../../../support/telegram/telegram-html.js';

const base: Reply = { title: 'prod: token mismatch (high confidence)', tone: 'warn' };

describe('renderTelegram', () => {
  it('puts the one-line summary first, bold, with a tone mark', () => {
    const out = renderTelegram({ ...base, body: ['Second line.'], fields: [{ name: 'Host', value: 'prod' }], footer: 'job 42' });
    expect(out.chunks).toHaveLength(1);
    const [first, ...rest] = out.chunks[0]!.split('\n');
    expect(first).toBe('⚠️ <b>prod: token mismatch (high confidence)</b>');
    expect(rest.join('\n')).toContain('<b>Host</b>: prod');
    expect(out.chunks[0]).toMatch(/<i>job 42<\/i>$/);
  });

  it('escapes every dynamic value, including field names, detail and footer', () => {
    const evil = '<script>alert("x")</script> & co';
    const out = renderTelegram({
      title: evil, tone: 'error', body: [evil], fields: [{ name: evil, value: evil }], detail: evil, footer: evil,
    });
    const html = out.chunks.join('\n');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
    // What Telegram would show: the literal text, six times (title, body, field name and value, detail, footer).
    const parsed = parseTelegramHtml(html);
    expect(parsed.text.split('<script>alert("x")</script> & co').length - 1).toBe(6);
  });

  it('escapes &, <, > and quotes', () => {
    expect(escapeHtml('a&b<c>d"e')).toBe('a&amp;b&lt;c&gt;d&quot;e');
  });

  it('redacts secrets again before rendering (defence in depth)', () => {
    const out = renderTelegram({ ...base, body: ['open https://gw.example/#token=abcdef1234567890'], detail: 'OPENCLAW_GATEWAY_TOKEN=s3cr3tvalue' });
    const html = out.chunks.join('');
    expect(html).not.toContain('abcdef1234567890');
    expect(html).not.toContain('s3cr3tvalue');
    expect(html).toContain('&lt;redacted&gt;');
  });

  it('shows short detail in <pre> and sends long detail as a document', () => {
    const short = renderTelegram({ ...base, detail: 'line 1\nline <2>' });
    expect(short.chunks[0]).toContain('<pre>line 1\nline &lt;2&gt;</pre>');
    expect(short.document).toBeUndefined();

    const longDetail = 'x'.repeat(DETAIL_INLINE_MAX + 1);
    const long = renderTelegram({ ...base, detail: longDetail });
    expect(long.document).toEqual({ filename: DETAIL_FILENAME, content: longDetail });
    expect(long.chunks.join('')).not.toContain('xxxxxxxxxx');
    expect(long.chunks[0]).toContain(DETAIL_FILENAME);
  });

  it('splits long text into chunks of at most 4096 characters, counting escapes', () => {
    const para = Array.from({ length: 200 }, (_, i) => `line ${i} <with> & entities`).join('\n');
    const out = renderTelegram({ ...base, body: [para, para] });
    expect(out.chunks.length).toBeGreaterThan(1);
    for (const c of out.chunks) {
      expect(c.length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
      expect(() => parseTelegramHtml(c)).not.toThrow();
    }
    // Nothing lost: all lines are there, in order.
    const text = out.chunks.map((c) => parseTelegramHtml(c).text).join('\n');
    expect(text.match(/line 199 <with> & entities/g)).toHaveLength(2);
    expect(text.indexOf('line 0 ')).toBeLessThan(text.indexOf('line 199 '));
  });

  it('cuts one endless line hard and never inside an entity', () => {
    const out = renderTelegram({ ...base, body: ['&'.repeat(5000)] }, 100);
    for (const c of out.chunks) {
      expect(c.length).toBeLessThanOrEqual(100);
      expect(parseTelegramHtml(c).text).toMatch(/^(⚠️ prod: token mismatch \(high confidence\)|&+)$/);
    }
    expect(out.chunks.map((c) => parseTelegramHtml(c).text.replace(/[^&]/g, '')).join('')).toHaveLength(5000);
  });

  it('keeps a long <pre> split as one <pre> per chunk', () => {
    const detail = Array.from({ length: 60 }, (_, i) => `out ${i}`).join('\n');
    const out = renderTelegram({ ...base, detail }, 200);
    const pres = out.chunks.filter((c) => c.includes('<pre>'));
    expect(pres.length).toBeGreaterThan(1);
    for (const c of out.chunks) expect(() => parseTelegramHtml(c)).not.toThrow();
  });

  it('renders buttons as an inline keyboard, three per row, <action>:<token> as callback_data', () => {
    const actions = ['diagnose', 'fix', 'ack', 'mute'] as const;
    const buttons = ['Diagnose', 'Fix', 'Ack', 'Mute'].map((label, i) => ({ label, action: actions[i]!, token: `t${i}` }));
    const out = renderTelegram({ ...base, buttons });
    expect(out.keyboard?.inline_keyboard).toEqual([
      [{ text: 'Diagnose', callback_data: 'diagnose:t0' }, { text: 'Fix', callback_data: 'fix:t1' }, { text: 'Ack', callback_data: 'ack:t2' }],
      [{ text: 'Mute', callback_data: 'mute:t3' }],
    ]);
    expect(renderTelegram(base).keyboard).toBeUndefined();
  });

  it('refuses a token Telegram would reject (> 64 bytes)', () => {
    expect(() => renderTelegram({ ...base, buttons: [{ label: 'Fix', action: 'fix', token: 'é'.repeat(33) }] })).toThrow(/64 bytes/);
  });
});
