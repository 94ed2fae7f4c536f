/**
 * Reply → Discord message rendering: tone colours, markdown safety, redaction, every Discord
 * limit respected (checked by the stand-in's independent validator), long text attached.
 */
import { describe, expect, it } from 'vitest';
import type { Reply } from '../../src/domain/types.js';
import { DETAIL_FILE_NAME, DISCORD_LIMITS, DiscordRenderError, TONE_COLOURS, escapeDiscordMarkdown, renderReply, toRestBody } from '../../src/chat/discord/render.js';
import { validateMessage } from '../support/discord/validate-message.js';

const bodyOf = (reply: Reply) => toRestBody(renderReply(reply)).body as unknown as Record<string, any>;

describe('renderReply', () => {
  it('maps tone to colour and title/fields/footer to the embed', () => {
    const body = bodyOf({
      title: 'prod: token mismatch (high confidence)',
      tone: 'warn',
      body: ['The CLI and the service use different tokens.'],
      fields: [{ name: 'Evidence', value: 'gateway closed (1008): unauthorized', inline: true }],
      footer: 'job 17 · 4.2 s',
    });
    const e = body.embeds[0];
    expect(e.color).toBe(TONE_COLOURS.warn);
    expect(e.title).toBe('prod: token mismatch (high confidence)');
    expect(e.fields).toEqual([{ name: 'Evidence', value: 'gateway closed (1008): unauthorized', inline: true }]);
    expect(e.footer).toEqual({ text: 'job 17 · 4.2 s' });
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(body.attachments).toEqual([]);
    for (const tone of ['info', 'pending', 'ok', 'warn', 'error'] as const) {
      expect(bodyOf({ title: 't', tone }).embeds[0].color).toBe(TONE_COLOURS[tone]);
    }
  });

  it('escapes markdown in plain text and keeps output from closing its code block', () => {
    const body = bodyOf({ title: '*prod* _down_', tone: 'error', body: ['run `openclaw` now'], detail: 'a ``` b' });
    expect(body.embeds[0].title).toBe('\\*prod\\* \\_down\\_');
    expect(body.embeds[0].description).toContain('run \\`openclaw\\` now');
    expect(body.embeds[0].description).not.toMatch(/a ```/);
    expect(escapeDiscordMarkdown('# head\n- item\n> quote [link](x) ||spoiler|| ~~s~~ a\\b')).toBe(
      '\\# head\n\\- item\n\\> quote \\[link\\](x) \\|\\|spoiler\\|\\| \\~\\~s\\~\\~ a\\\\b',
    );
  });

  it('redacts secrets again before measuring limits', () => {
    const body = bodyOf({ title: 'x', tone: 'info', detail: 'OPENCLAW_GATEWAY_TOKEN=abcdef123456 started' });
    expect(body.embeds[0].description).toContain('OPENCLAW_GATEWAY_TOKEN=<redacted>');
    expect(JSON.stringify(body)).not.toContain('abcdef123456');
  });

  it('shows short detail inline and attaches long detail with its tail inline', () => {
    const short = renderReply({ title: 't', tone: 'info', detail: 'one\ntwo' });
    expect(short.files).toEqual([]);
    expect(short.embeds[0]!.data.description).toBe('```\none\ntwo\n```');

    const detail = Array.from({ length: 300 }, (_, i) => `log line ${i}`).join('\n');
    const long = renderReply({ title: 't', tone: 'info', detail });
    expect(long.files.map((f) => f.name)).toEqual([DETAIL_FILE_NAME]);
    expect(long.files[0]!.data.toString()).toContain('log line 0\n');
    expect(long.files[0]!.data.toString()).toContain('log line 299');
    const d = long.embeds[0]!.data.description!;
    expect(d).toContain('log line 299');
    expect(d).not.toContain('log line 0\n');
    expect(d).toContain(`Full output attached: ${DETAIL_FILE_NAME}`);
  });

  it('stays within every limit for oversized replies (validated independently) and attaches the full text', () => {
    const huge = 'word '.repeat(3000);
    const reply: Reply = {
      title: 'T'.repeat(400),
      tone: 'error',
      body: [huge, huge],
      fields: Array.from({ length: 40 }, (_, i) => ({ name: `field ${i} ${'n'.repeat(300)}`, value: 'v'.repeat(2000) })),
      detail: 'd'.repeat(20_000),
      footer: 'f'.repeat(3000),
      buttons: Array.from({ length: 30 }, (_, i) => ({ label: `button ${i} ${'l'.repeat(100)}`, action: 'diagnose' as const, token: `tok${i}` })),
    };
    const rendered = renderReply(reply);
    const { body } = toRestBody(rendered);
    expect(validateMessage(body as unknown as Record<string, unknown>)).toEqual([]);
    const e = body.embeds[0]!;
    // Fields are kept in order while they fit next to the description; the rest are in the file.
    expect(e.fields!.length).toBeGreaterThan(0);
    expect(e.fields!.length).toBeLessThanOrEqual(DISCORD_LIMITS.embedFields);
    expect(e.fields![0]!.name.startsWith('field 0 ')).toBe(true);
    expect(e.description).toContain(`full text attached: ${DETAIL_FILE_NAME}`);
    expect(body.components).toHaveLength(DISCORD_LIMITS.actionRows);
    expect(body.components.every((r) => r.components.length <= DISCORD_LIMITS.buttonsPerRow)).toBe(true);
    const total = (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.footer?.text.length ?? 0) + (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);
    expect(total).toBeLessThanOrEqual(DISCORD_LIMITS.embedTotal);
    const file = rendered.files[0]!.data.toString();
    expect(file).toContain('field 39');
    expect(file.length).toBeGreaterThan(20_000);
  });

  it('keeps 25 small fields and caps a 26th', () => {
    const fields = Array.from({ length: 26 }, (_, i) => ({ name: `f${i}`, value: `v${i}` }));
    const r = renderReply({ title: 't', tone: 'info', fields });
    expect(r.embeds[0]!.data.fields).toHaveLength(25);
    expect(r.files[0]!.data.toString()).toContain('f25: v25');
  });

  it('renders buttons with the token as custom_id, five per row, confirm as danger by default', () => {
    const r = renderReply({
      title: 'plan',
      tone: 'warn',
      buttons: [
        { label: 'Confirm', action: 'confirm', token: 'abc' },
        { label: 'Cancel', action: 'cancel', token: 'def' },
        ...Array.from({ length: 5 }, (_, i) => ({ label: `b${i}`, action: 'diagnose' as const, token: `t${i}`, style: 'primary' as const })),
      ],
    });
    const rows = r.components.map((c) => c.toJSON());
    expect(rows.map((row) => row.components.length)).toEqual([5, 2]);
    const first = rows[0]!.components[0] as { custom_id: string; style: number };
    expect(first).toMatchObject({ custom_id: 'abc', style: 4 });
    expect((rows[0]!.components[1] as { style: number }).style).toBe(2);
    expect(() => renderReply({ title: 't', tone: 'info', buttons: [{ label: 'x', action: 'fix', token: 'x'.repeat(101) }] })).toThrow(DiscordRenderError);
  });

  it('marks private replies ephemeral and passes flags through toRestBody', () => {
    const r = renderReply({ title: 'secret link', tone: 'info', private: true });
    expect(r.ephemeral).toBe(true);
    expect(toRestBody(r, 64).body.flags).toBe(64);
    expect(toRestBody(renderReply({ title: 'x', tone: 'ok' })).body.flags).toBeUndefined();
  });
});

describe('embed footer', () => {
  it('is redacted but not markdown-escaped (Discord shows footers literally)', () => {
    const out = renderReply({ title: 't', tone: 'info', footer: 'incident prod.token_mismatch.x · job fix-a_b' });
    expect(out.embeds[0]!.data.footer?.text).toBe('incident prod.token_mismatch.x · job fix-a_b');
  });
});
