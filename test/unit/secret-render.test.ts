import { describe, expect, it } from 'vitest';
import { renderTelegram } from '../../src/chat/telegram/render.js';
import { renderReply } from '../../src/chat/discord/render.js';
import { renderText } from '../../src/chat/console/render-text.js';
import type { Reply } from '../../src/domain/types.js';

const link = 'http://127.0.0.1:18789/#token=tok_with_underscores_and-dashes';
const priv: Reply = { title: 'prod: fresh dashboard link (private)', tone: 'info', body: ['Open it.'], private: true, secret: link };
const pub: Reply = { ...priv, private: false };

describe('Reply.secret', () => {
  it('reaches the requester intact in a private message, on every platform', () => {
    expect(renderTelegram(priv).chunks.join('\n')).toContain(link);
    expect(renderReply(priv).content).toBe(link);
    expect(renderText(priv)).toContain(link);
  });
  it('is never rendered in a non-private message, and other text stays redacted', () => {
    expect(renderTelegram(pub).chunks.join('\n')).not.toContain('tok_with');
    expect(JSON.stringify(renderReply(pub))).not.toContain('tok_with');
    expect(renderText(pub)).not.toContain('tok_with');
    const leaked: Reply = { title: `see ${link}`, tone: 'info', private: true };
    expect(renderTelegram(leaked).chunks.join('')).not.toContain('tok_with');
    expect(JSON.stringify(renderReply(leaked))).not.toContain('tok_with');
  });
});
