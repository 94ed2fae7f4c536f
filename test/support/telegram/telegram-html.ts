/**
 * Telegram's HTML parse mode, as the stand-in needs it: turns `parse_mode: HTML` text into plain text
 * and entities, and rejects what Telegram rejects (unknown or unclosed tags, stray "<"), with its wording.
 */

/** One message entity (offsets in UTF-16 code units, as the Bot API counts them). */
export interface ParsedEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
}

/** Thrown for text Telegram would refuse: the message is the Bot API's description after "Bad Request: ". */
export class HtmlParseError extends Error {}

const TAG_TYPES: Record<string, string> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  a: 'text_link',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/**
 * Parse Telegram HTML into { text, entities }. Like Telegram, a bare "&" that starts no known entity is
 * kept literally, and a "<" that does not open a supported tag is an error.
 */
export function parseTelegramHtml(html: string): { text: string; entities: ParsedEntity[] } {
  let text = '';
  const entities: ParsedEntity[] = [];
  const open: Array<{ tag: string; start: number; attrs: string }> = [];
  let i = 0;
  const byteOffset = (at: number): number => Buffer.byteLength(html.slice(0, at), 'utf8');
  while (i < html.length) {
    const ch = html[i]!;
    if (ch === '<') {
      const m = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^>]*)?)>/.exec(html.slice(i));
      if (!m) throw new HtmlParseError(`can't parse entities: Unexpected end of name token at byte offset ${byteOffset(i)}`);
      const [whole, slash, rawName, attrs] = m;
      const name = rawName!.toLowerCase();
      if (!(name in TAG_TYPES)) {
        throw new HtmlParseError(
          `can't parse entities: Unsupported ${slash ? 'end' : 'start'} tag "${name}" at byte offset ${byteOffset(i)}`,
        );
      }
      if (slash) {
        const top = open.pop();
        if (!top || top.tag !== name) {
          throw new HtmlParseError(
            `can't parse entities: Unmatched end tag at byte offset ${byteOffset(i)}, expected "</${top?.tag ?? ''}>", found "</${name}>"`,
          );
        }
        // <blockquote expandable> is its own entity type in the Bot API.
        const type = name === 'blockquote' && /\bexpandable\b/.test(top.attrs) ? 'expandable_blockquote' : TAG_TYPES[name]!;
        const entity: ParsedEntity = { type, offset: top.start, length: text.length - top.start };
        const href = /href\s*=\s*"([^"]*)"/.exec(top.attrs)?.[1];
        if (name === 'a' && href) entity.url = href;
        if (entity.length > 0) entities.push(entity);
      } else {
        open.push({ tag: name, start: text.length, attrs: attrs ?? '' });
      }
      i += whole!.length;
      continue;
    }
    if (ch === '&') {
      const m = /^&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/.exec(html.slice(i));
      if (m) {
        const ref = m[1]!;
        let decoded: string | undefined;
        if (ref.startsWith('#x')) decoded = String.fromCodePoint(parseInt(ref.slice(2), 16));
        else if (ref.startsWith('#')) decoded = String.fromCodePoint(parseInt(ref.slice(1), 10));
        else decoded = NAMED_ENTITIES[ref.toLowerCase()];
        if (decoded !== undefined) {
          text += decoded;
          i += m[0].length;
          continue;
        }
      }
    }
    text += ch;
    i += 1;
  }
  const unclosed = open.pop();
  if (unclosed) {
    throw new HtmlParseError(`can't parse entities: Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  }
  entities.sort((a, b) => a.offset - b.offset);
  return { text, entities };
}
