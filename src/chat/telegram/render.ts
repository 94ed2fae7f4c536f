/**
 * Reply → Telegram HTML: escaped chunks of at most 4096 characters, an inline keyboard, and a
 * document for long preformatted output. Pure, so every escaping and splitting rule is unit-tested.
 */
import type { Reply, ReplyTone } from '../../domain/types.js';
import { redact } from '../../util/redact.js';
import { evidenceLines } from '../evidence-lines.js';

/** Telegram's limit for one message text (sendMessage / editMessageText). */
export const TELEGRAM_TEXT_LIMIT = 4096;
/** Telegram's limit for a media caption (sendPhoto), after entity parsing. */
export const TELEGRAM_CAPTION_LIMIT = 1024;
/**
 * callback_data is `<action>:<token>`: the router only ever sees the token (it re-checks everything);
 * the action tells the adapter whether the answer replaces the pressed message (Confirm/Cancel/Restore
 * continue that message) or comes as a new one (Diagnose/Fix/Ack/Mute under an alert must not overwrite it).
 */
export const CALLBACK_SEPARATOR = ':';

/** Buttons whose answer edits the message they were pressed on. */
export const IN_PLACE_ACTIONS: ReadonlySet<string> = new Set(['confirm', 'cancel', 'restore', 'bring_back', 'pick']);

/** Split callback_data into the adapter's action hint and the router's token. */
export function parseCallbackData(data: string): { action?: string; token: string } {
  const sep = data.indexOf(CALLBACK_SEPARATOR);
  return sep < 0 ? { token: data } : { action: data.slice(0, sep), token: data.slice(sep + 1) };
}

/** Telegram's limit for callback_data, in bytes. */
export const TELEGRAM_CALLBACK_DATA_LIMIT = 64;
/** Detail longer than this is attached as a file instead of being split over many messages. */
export const DETAIL_INLINE_MAX = 3000;
/** File name used when the detail goes out as a document. */
export const DETAIL_FILENAME = 'details.txt';
/** Buttons per keyboard row: three stays readable on a phone. */
const BUTTONS_PER_ROW = 3;

/** A status word/emoji in front of the title, so the verdict reads at a glance in the chat list. */
const TONE_MARK: Record<ReplyTone, string> = {
  info: 'ℹ️',
  pending: '⏳',
  ok: '✅',
  warn: '⚠️',
  error: '❌',
};

/** One inline button as the Bot API takes it. */
export interface TelegramInlineButton {
  text: string;
  callback_data: string;
}

/** What the adapter sends for one Reply. */
export interface TelegramRendered {
  /** HTML (parse_mode HTML), each ≤ 4096 characters; the keyboard goes under the last one. */
  chunks: string[];
  keyboard?: { inline_keyboard: TelegramInlineButton[][] };
  /** Long detail, sent as a file after the text. */
  document?: { filename: string; content: string };
}

/**
 * Escape a plain-text value for Telegram HTML (&, <, >; quotes too, harmless outside attributes).
 * Every dynamic value goes through this after redaction.
 */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A piece of the message: fixed markup around one plain-text value, separated from the previous one by `sep`. */
interface Block {
  sep: string;
  prefix: string;
  text: string;
  suffix: string;
}

const clean = (s: string): string => redact(s);

/**
 * Render a platform-neutral Reply as Telegram HTML chunks, keyboard and optional document.
 * Title first (one line: tone mark + bold title), then body, fields, evidence (expandable blockquote),
 * detail (<pre>) and footer.
 */
export function renderTelegram(reply: Reply, limit = TELEGRAM_TEXT_LIMIT): TelegramRendered {
  const blocks: Block[] = [];
  blocks.push({ sep: '', prefix: `${TONE_MARK[reply.tone]} <b>`, text: clean(reply.title), suffix: '</b>' });
  for (const para of reply.body ?? []) {
    if (para.trim() === '') continue;
    blocks.push({ sep: '\n\n', prefix: '', text: clean(para), suffix: '' });
  }
  // The secret (a tokenized link) is the one value not redacted, and only in a private message.
  if (reply.private && reply.secret) blocks.push({ sep: '\n\n', prefix: '', text: reply.secret, suffix: '' });
  (reply.fields ?? []).forEach((f, i) => {
    blocks.push({ sep: i === 0 ? '\n\n' : '\n', prefix: `<b>${escapeHtml(clean(f.name))}</b>: `, text: clean(f.value), suffix: '' });
  });
  // Evidence once, folded: Telegram shows the first lines of an expandable blockquote and opens it on tap.
  const evidence = evidenceLines(reply.evidence);
  if (evidence.length) {
    blocks.push({
      sep: '\n\n',
      prefix: `<b>${escapeHtml(clean(reply.evidence!.label))}</b>\n<blockquote expandable>`,
      text: evidence.join('\n'),
      suffix: '</blockquote>',
    });
  }
  let document: TelegramRendered['document'];
  if (reply.detail !== undefined && reply.detail.trim() !== '') {
    const detail = clean(reply.detail);
    if (detail.length > DETAIL_INLINE_MAX) {
      document = { filename: DETAIL_FILENAME, content: detail };
      blocks.push({ sep: '\n\n', prefix: '<i>', text: `Full output attached as ${DETAIL_FILENAME}.`, suffix: '</i>' });
    } else {
      blocks.push({ sep: '\n\n', prefix: '<pre>', text: detail, suffix: '</pre>' });
    }
  }
  if (reply.footer) blocks.push({ sep: '\n\n', prefix: '<i>', text: clean(reply.footer), suffix: '</i>' });

  const chunks = pack(blocks, limit);
  const out: TelegramRendered = { chunks };
  if (reply.buttons && reply.buttons.length > 0) {
    const rows: TelegramInlineButton[][] = [];
    reply.buttons.forEach((b, i) => {
      if (Buffer.byteLength(`${b.action}${CALLBACK_SEPARATOR}${b.token}`, 'utf8') > TELEGRAM_CALLBACK_DATA_LIMIT) {
        // The router issues short tokens; a long one is a bug that Telegram would reject (BUTTON_DATA_INVALID).
        throw new Error(`button token for "${b.label}" is longer than ${TELEGRAM_CALLBACK_DATA_LIMIT} bytes`);
      }
      if (i % BUTTONS_PER_ROW === 0) rows.push([]);
      rows[rows.length - 1]!.push({ text: clean(b.label), callback_data: `${b.action}${CALLBACK_SEPARATOR}${b.token}` });
    });
    out.keyboard = { inline_keyboard: rows };
  }
  if (document) out.document = document;
  return out;
}

/** Pack blocks into as few chunks ≤ limit as possible, splitting a block that alone is too long. */
function pack(blocks: Block[], limit: number): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const block of blocks.flatMap((b) => splitBlock(b, limit))) {
    const html = block.prefix + escapeHtml(block.text) + block.suffix;
    if (current === '') current = html;
    else if (current.length + block.sep.length + html.length <= limit) current += block.sep + html;
    else {
      chunks.push(current);
      current = html;
    }
  }
  if (current !== '') chunks.push(current);
  return chunks;
}

/** A block whose HTML exceeds the limit becomes several blocks with the same markup (a <pre> per chunk). */
function splitBlock(block: Block, limit: number): Block[] {
  const room = limit - block.prefix.length - block.suffix.length;
  if (escapeHtml(block.text).length <= room) return [block];
  return splitPlain(block.text, room).map((text, i) => ({ ...block, text, sep: i === 0 ? block.sep : '\n' }));
}

/** Split plain text into pieces whose escaped length is ≤ room: at line ends when possible, else hard. */
function splitPlain(text: string, room: number): string[] {
  const pieces: string[] = [];
  let current = '';
  let currentLen = 0;
  const flush = (): void => {
    if (current !== '') pieces.push(current);
    current = '';
    currentLen = 0;
  };
  for (const line of text.split('\n')) {
    const lineLen = escapeHtml(line).length;
    const joinLen = current === '' ? 0 : 1;
    if (currentLen + joinLen + lineLen <= room) {
      current += (current === '' ? '' : '\n') + line;
      currentLen += joinLen + lineLen;
      continue;
    }
    flush();
    if (lineLen <= room) {
      current = line;
      currentLen = lineLen;
      continue;
    }
    // One line longer than a message: cut it by code points (never inside a surrogate pair or an entity).
    for (const ch of line) {
      const chLen = escapeHtml(ch).length;
      if (currentLen + chLen > room) flush();
      current += ch;
      currentLen += chLen;
    }
  }
  flush();
  return pieces;
}

/**
 * A short caption for a picture message (sendPhoto): the bold title, the body and the footer, cut to fit
 * Telegram's 1024 characters (counted after entity parsing; the HTML source is capped too, to be safe).
 */
export function renderCaption(reply: Reply, limit = TELEGRAM_CAPTION_LIMIT): string {
  const fit = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`);
  const title = fit(clean(reply.title), 200);
  const footer = reply.footer ? fit(clean(reply.footer), 200) : '';
  const budget = limit - title.length - footer.length - 8;
  const body = fit((reply.body ?? []).map(clean).filter((p) => p.trim() !== '').join('\n'), Math.max(0, budget));
  const parts = [`${TONE_MARK[reply.tone]} <b>${escapeHtml(title)}</b>`];
  if (body) parts.push(escapeHtml(body));
  if (footer) parts.push(`<i>${escapeHtml(footer)}</i>`);
  let html = parts.join('\n');
  // Escaping can lengthen the source past the limit: drop the body rather than cut inside an entity.
  if (html.length > limit) html = [parts[0], footer ? `<i>${escapeHtml(footer)}</i>` : ''].filter(Boolean).join('\n');
  return html;
}
