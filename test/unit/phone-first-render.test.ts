/**
 * Issue 14, item 1: every diagnosis, fix plan and alert, for every cause, on every platform:
 * one summary line first, the evidence once and folded, within the platform's limits, valid markup,
 * and no more than ~12 lines visible before the fold.
 */
import { describe, expect, it } from 'vitest';
import { CAUSES, type Cause, type FixPlan, type Verdict } from '../../src/domain/diagnosis.js';
import type { Reply } from '../../src/domain/types.js';
import { renderPlan, renderVerdict } from '../../src/render/render-results.js';
import { renderAlert } from '../../src/alerts/render-incident.js';
import type { Incident } from '../../src/domain/incident.js';
import { renderTelegram, TELEGRAM_TEXT_LIMIT } from '../../src/chat/telegram/render.js';
import { renderReply, toRestBody, DISCORD_LIMITS } from '../../src/chat/discord/render.js';
import { renderText } from '../../src/chat/console/render-text.js';
import { evidenceLines } from '../../src/chat/evidence-lines.js';
import { parseTelegramHtml } from '../support/telegram/telegram-html.js';
import { validateMessage } from '../support/discord/validate-message.js';

/** Most lines a reader sees before opening the folded evidence. */
const VISIBLE_MAX = 12;

/** Real-looking evidence, with characters every markup must escape and one line repeated. */
const EVIDENCE = [
  '2026-11-25T15:59:52Z warn gateway/ws unauthorized conn=452b38de reason=token_mismatch client=webchat-ui <control-ui>',
  '2026-11-25T15:59:53Z warn gateway/ws closed before connect code=4008 reason=connect failed & retried',
  'origin=http://127.0.0.1:44715 ua=*Mozilla* _agent_ `x` |pipe| ~strike~',
  '# not a heading > not a quote - not a list',
  '2026-11-25T15:59:52Z warn gateway/ws unauthorized conn=452b38de reason=token_mismatch client=webchat-ui <control-ui>',
  'gateway status: listening 127.0.0.1:18789, probe ok=false',
];

function verdictFor(cause: Cause): Verdict {
  return {
    host: 'prod',
    probeOk: cause !== 'gateway_down',
    gaps: [],
    at: '2026-11-25T16:00:00Z',
    openclawVersion: '2026.9.6',
    findings: [
      {
        cause,
        confidence: 'high',
        weight: 90,
        summary: `Finding for ${cause}: one browser tab keeps presenting an old token.`,
        evidence: EVIDENCE,
        userActions: ['Reopen the dashboard with a fresh link.', 'Clear the site data of the old tab.'],
      },
      // A second finding sharing a line with the first: the line is still shown once.
      { cause: 'rate_limited', confidence: 'low', weight: 20, summary: 'rate limit', evidence: [EVIDENCE[1]!, 'auth rate limit hit for 127.0.0.1'], userActions: [] },
    ],
  };
}

function planFor(cause: Cause): FixPlan {
  return {
    host: 'prod',
    cause,
    steps: [
      { kind: 'stop_gateway', description: 'stop the gateway (systemctl --user stop openclaw-gateway.service)', script: 'true', timeoutMs: 1000, mutates: true },
      { kind: 'doctor_fix', description: 'openclaw doctor --fix', script: 'true', timeoutMs: 1000, mutates: true },
      { kind: 'start_gateway', description: 'start the gateway', script: 'true', timeoutMs: 1000, mutates: true },
    ],
    // The finding's actions plus one of the plan's own (plan.ts merges them).
    userActions: ['Reopen the dashboard with a fresh link.', 'Clear the site data of the old tab.', 'Update gateway.remote.token on remote CLIs.'],
    disruptive: true,
    verifyWindowSec: 30,
  };
}

function incidentFor(cause: Cause): Incident {
  const t = Date.parse('2026-11-25T07:41:00Z');
  return {
    id: `prod.${cause}.1`, host: 'prod', family: cause, cause, source: 'log', phase: 'firing',
    firstEventAt: t, lastEventAt: t + 60_000, count: 12, recent: [], clients: ['webchat-ui'], seenConns: [],
    evidence: EVIDENCE, probeFailures: 0, marks: {}, openedAt: t, firedAt: t + 30_000, fireCount: 1, flapping: false,
    tried: [], version: 1, announced: true, renderedVersion: 1, reminders: 0, recoveredFor: 0, flapNoticeFor: 0, autoFixFor: 0,
  };
}

const TOKENS = { diagnose: 'td', fix: 'tf', ack: 'ta', mute: 'tm' };
const btn = [{ label: 'Fix', action: 'fix' as const, token: 'tok1' }, { label: 'Diagnose again', action: 'diagnose' as const, token: 'tok2' }];

const replies = (cause: Cause): Array<[string, Reply]> => [
  ['diagnosis', renderVerdict(verdictFor(cause), '1.2 s', btn)],
  ['fix plan', renderPlan(verdictFor(cause), planFor(cause), '1.2 s', btn)],
  ['alert', renderAlert(incidentFor(cause), Date.parse('2026-11-25T08:00:00Z'), { tokens: TOKENS })],
];

/** Occurrences of `needle` in `hay`. */
const count = (hay: string, needle: string): number => hay.split(needle).length - 1;

const expectedLines = (reply: Reply): string[] => evidenceLines(reply.evidence);

describe.each([...CAUSES])('cause %s', (cause) => {
  it.each(replies(cause).map(([k]) => k))('%s: Telegram — one message, valid HTML, evidence once in an expandable blockquote, ≤ 12 lines before it', (kind) => {
    const reply = replies(cause).find(([k]) => k === kind)![1];
    const out = renderTelegram(reply);
    expect(out.chunks).toHaveLength(1);
    expect(out.chunks[0]!.length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
    const { text, entities } = parseTelegramHtml(out.chunks[0]!);
    const quotes = entities.filter((e) => e.type === 'expandable_blockquote');
    expect(quotes).toHaveLength(1);
    const folded = text.slice(quotes[0]!.offset, quotes[0]!.offset + quotes[0]!.length);
    const lines = expectedLines(reply);
    for (const e of new Set(EVIDENCE)) expect(lines).toContain(e);
    for (const line of lines) {
      expect(count(text, line), line).toBe(1);
      expect(folded).toContain(line);
    }
    const visible = text.slice(0, quotes[0]!.offset).split('\n').filter((l) => l.trim() !== '');
    expect(visible.length).toBeLessThanOrEqual(VISIBLE_MAX);
    // The title is said once: the line after it is something else.
    const [first, second] = text.split('\n').filter((l) => l.trim() !== '');
    expect(first).toContain(reply.title);
    expect(second).not.toContain(reply.title.replace(/^\w+: /, ''));
  });

  it.each(replies(cause).map(([k]) => k))('%s: Discord — within limits, markdown escaped, evidence once as an embed field', (kind) => {
    const reply = replies(cause).find(([k]) => k === kind)![1];
    const msg = renderReply(reply);
    const { body } = toRestBody(msg);
    expect(validateMessage(body as unknown as Record<string, unknown>)).toEqual([]);
    const embed = body.embeds[0]!;
    const field = embed.fields!.find((f) => f.name === 'Evidence')!;
    expect(field.value.length).toBeLessThanOrEqual(DISCORD_LIMITS.embedFieldValue);
    const all = [embed.title, embed.description ?? '', ...embed.fields!.map((f) => `${f.name}\n${f.value}`)].join('\n');
    // Valid markdown: every special character of the evidence arrives escaped, so unescaping gives the lines back.
    const unescape = (s: string) => s.replace(/\\([\\*_~`|[\]<>#\->])/g, '$1');
    for (const line of expectedLines(reply)) {
      expect(count(unescape(all), line), line).toBe(1);
      expect(unescape(field.value)).toContain(line);
    }
    expect(field.value).not.toMatch(/(^|[^\\])[*_~`|]/);
    const visible = (embed.description ?? '').split('\n').filter((l) => l.trim() !== '');
    expect(visible.length).toBeLessThanOrEqual(VISIBLE_MAX);
    expect(visible[0] ?? '').not.toBe(embed.title);
  });

  it.each(replies(cause).map(([k]) => k))('%s: console — evidence once, indented under its label', (kind) => {
    const reply = replies(cause).find(([k]) => k === kind)![1];
    const text = renderText(reply);
    const lines = text.split('\n');
    const at = lines.indexOf('  Evidence:');
    expect(at).toBeGreaterThan(0);
    for (const line of expectedLines(reply)) {
      expect(count(text, line), line).toBe(1);
      expect(lines.indexOf(`    ${line}`)).toBeGreaterThan(at);
    }
    expect(lines.slice(0, at).filter((l) => l.trim() !== '').length).toBeLessThanOrEqual(VISIBLE_MAX);
    expect(lines[1]).not.toContain(reply.title);
  });
});

describe('evidence block', () => {
  it('caps long evidence and says how much more there is', () => {
    const many = Array.from({ length: 40 }, (_, i) => `line ${i}`);
    const lines = evidenceLines({ label: 'Evidence', lines: many });
    expect(lines).toHaveLength(12);
    expect(lines.at(-1)).toBe('… 29 more');
  });
  it('a fix plan lists the user actions once, not the finding and the plan in two wordings', () => {
    const reply = renderPlan(verdictFor('stale_client'), planFor('stale_client'), '1 s', btn);
    const text = renderText(reply);
    expect(count(text, 'Reopen the dashboard with a fresh link.')).toBe(1);
    expect(count(text, 'Update gateway.remote.token on remote CLIs.')).toBe(1);
    expect(reply.title).toBe('prod: stale tab (high confidence) — reopen the dashboard with a fresh link; no restart — confirm the fix?');
  });
});
