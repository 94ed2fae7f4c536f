/**
 * Reply → Discord message (embed + button rows + attachment), always within Discord's limits
 * after redaction: colour by tone, title = host + verdict, fields for evidence, footer with job
 * id and duration; text that does not fit goes into an attached file instead of being lost.
 */
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  EmbedBuilder,
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
  type RawFile,
} from 'discord.js';
import type { Reply, ReplyButton, ReplyTone } from '../../domain/types.js';
import { redact } from '../../util/redact.js';
import { evidenceLines } from '../evidence-lines.js';

/** Discord's limits (API reference) and the deadlines the adapter works against. */
export const DISCORD_LIMITS = {
  content: 2000,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  embedFieldName: 256,
  embedFieldValue: 1024,
  embedFooter: 2048,
  /** Sum of title, description, field names/values, footer and author over all embeds of a message. */
  embedTotal: 6000,
  buttonsPerRow: 5,
  actionRows: 5,
  customId: 100,
  buttonLabel: 80,
  /** An interaction must be acknowledged this soon after it is created (10062 afterwards). */
  ackDeadlineMs: 3000,
  /** Interaction tokens (webhook edits of the response) stay valid this long. */
  interactionTokenTtlMs: 15 * 60_000,
} as const;

/** Detail up to this size is shown inline in a code block; longer detail is attached. */
export const INLINE_DETAIL_MAX_CHARS = 1000;
const INLINE_DETAIL_MAX_LINES = 20;
/** Room kept for the description when many fields compete for the 6000-character total. */
const DESCRIPTION_RESERVE = 1500;
/** Lines of a long detail still shown inline (the tail is where errors usually are). */
const PREVIEW_TAIL_LINES = 8;
const PREVIEW_MAX_CHARS = 700;
/** Name of the attached file carrying the full text. */
export const DETAIL_FILE_NAME = 'clawmedic-output.txt';
/** Cap on the attachment: far below Discord's upload limit, far above any useful output. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** Embed colour per tone (Discord's palette: blurple, grey, green, yellow, red). */
export const TONE_COLOURS: Readonly<Record<ReplyTone, number>> = {
  info: 0x5865f2,
  pending: 0x99aab5,
  ok: 0x57f287,
  warn: 0xfee75c,
  error: 0xed4245,
};

const STYLE: Record<NonNullable<ReplyButton['style']>, ButtonStyle> = {
  primary: ButtonStyle.Primary,
  secondary: ButtonStyle.Secondary,
  danger: ButtonStyle.Danger,
  success: ButtonStyle.Success,
};

/** A file to attach. */
export interface RenderedFile {
  name: string;
  data: Buffer;
  /** MIME type sent with the upload (default text/plain). */
  contentType?: string;
}

/** A Reply rendered for Discord: ready for interaction responses, webhooks and channel messages. */
export interface RenderedMessage {
  content?: string;
  embeds: EmbedBuilder[];
  components: ActionRowBuilder<ButtonBuilder>[];
  files: RenderedFile[];
  /** Only the requester should see it (ephemeral where Discord allows). */
  ephemeral: boolean;
}

/** A button token that Discord cannot carry (custom_id over 100 characters): a bug upstream. */
export class DiscordRenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiscordRenderError';
  }
}

/** Cut to `max` characters with an ellipsis, never leaving a dangling markdown escape. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  const trailing = /\\+$/.exec(cut)?.[0].length ?? 0;
  if (trailing % 2 === 1) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/**
 * Plain text → markdown-safe text (the Reply contract: strings are plain, adapters escape).
 * One linear pass: discord.js's escapeMarkdown takes seconds on 20 kB of output, which would
 * stall the event loop and with it every other interaction's deferral.
 */
export function escapeDiscordMarkdown(text: string): string {
  return text.replace(/[\\*_~`|[\]<>]/g, '\\$&').replace(/^([ \t]*)([#>-])/gm, '$1\\$2');
}

const safe = (text: string): string => escapeDiscordMarkdown(redact(text));

/** Neutralise ``` so output cannot close our code block early. */
const codeSafe = (text: string): string => text.replace(/```/g, '`\u200b`\u200b`');

const codeBlock = (text: string): string => `\`\`\`\n${codeSafe(text)}\n\`\`\``;

function tailPreview(detail: string): string {
  const lines = detail.split('\n');
  let tail = lines.slice(-PREVIEW_TAIL_LINES).join('\n');
  if (tail.length > PREVIEW_MAX_CHARS) tail = `…${tail.slice(-(PREVIEW_MAX_CHARS - 1))}`;
  return tail;
}

/** The whole reply as plain text: what the attached file carries when anything was shortened. */
function plainText(reply: Reply, detail: string | undefined): string {
  const parts = [redact(reply.title)];
  if (reply.body?.length) parts.push(reply.body.map(redact).join('\n\n'));
  if (reply.fields?.length) parts.push(reply.fields.map((f) => `${redact(f.name)}: ${redact(f.value)}`).join('\n'));
  const evidence = evidenceLines(reply.evidence);
  if (evidence.length) parts.push(`${redact(reply.evidence!.label)}:\n${evidence.join('\n')}`);
  if (detail) parts.push(detail);
  if (reply.footer) parts.push(redact(reply.footer));
  return parts.join('\n\n') + '\n';
}

/**
 * Join lines into at most `max` characters once escaped, dropping whole lines from the end (with a
 * count) instead of cutting one in half.
 */
function fitLines(lines: string[], max: number): string {
  const kept: string[] = [];
  let used = 0;
  for (const [i, line] of lines.entries()) {
    const escaped = escapeDiscordMarkdown(line);
    const more = `… ${lines.length - i} more`;
    if (used + escaped.length + 1 + more.length + 1 > max) {
      kept.push(more);
      break;
    }
    kept.push(escaped);
    used += escaped.length + 1;
  }
  return kept.join('\n');
}

/** Button rows: five per row, at most five rows; custom_id is the router's opaque token. */
function renderButtons(buttons: ReplyButton[] | undefined): ActionRowBuilder<ButtonBuilder>[] {
  const max = DISCORD_LIMITS.buttonsPerRow * DISCORD_LIMITS.actionRows;
  const rows: ActionRowBuilder<ButtonBuilder>[] = [];
  (buttons ?? []).slice(0, max).forEach((b, i) => {
    if (b.token.length > DISCORD_LIMITS.customId) {
      throw new DiscordRenderError(`button "${b.label}" has a token of ${b.token.length} characters; Discord allows ${DISCORD_LIMITS.customId}`);
    }
    if (i % DISCORD_LIMITS.buttonsPerRow === 0) rows.push(new ActionRowBuilder<ButtonBuilder>());
    const style = b.style ? STYLE[b.style] : b.action === 'confirm' ? ButtonStyle.Danger : ButtonStyle.Secondary;
    rows[rows.length - 1]!.addComponents(
      new ButtonBuilder().setCustomId(b.token).setLabel(truncate(redact(b.label), DISCORD_LIMITS.buttonLabel)).setStyle(style),
    );
  });
  return rows;
}

/**
 * Render a Reply as one embed with buttons, inside every Discord limit. Long detail (or any text
 * that had to be shortened) is attached in full as a text file, with the tail shown inline.
 */
export function renderReply(reply: Reply): RenderedMessage {
  const detail = reply.detail ? redact(reply.detail).replace(/\s+$/, '') : undefined;
  let shortened = false;

  const title = safe(reply.title);
  const embed = new EmbedBuilder().setColor(TONE_COLOURS[reply.tone]).setTitle(truncate(title, DISCORD_LIMITS.embedTitle));
  shortened ||= title.length > DISCORD_LIMITS.embedTitle;

  // Discord does not format markdown in embed footers: redact only, or users see the escapes.
  const footerText = reply.footer ? redact(reply.footer) : undefined;
  const footer = footerText ? truncate(footerText, DISCORD_LIMITS.embedFooter) : undefined;
  shortened ||= !!footerText && footerText.length > DISCORD_LIMITS.embedFooter;

  const bodyText = (reply.body ?? []).map(safe).join('\n\n');
  const detailFits =
    !!detail && detail.length <= INLINE_DETAIL_MAX_CHARS && detail.split('\n').length <= INLINE_DETAIL_MAX_LINES;
  const attachDetail = !!detail && !detailFits;
  const detailBlock = detail
    ? attachDetail
      ? `${codeBlock(tailPreview(detail))}\nFull output attached: ${DETAIL_FILE_NAME}`
      : codeBlock(detail)
    : '';
  let description = [bodyText, detailBlock].filter(Boolean).join('\n\n');

  // The 6000-character total covers title, description, fields and footer together: fields get
  // what is left after keeping room for (part of) the description; the description gets the rest.
  let used = (embed.data.title?.length ?? 0) + (footer?.length ?? 0);
  const descriptionReserve = Math.min(description.length, DESCRIPTION_RESERVE);
  // Evidence once, as its own embed field after the others (Discord has no folding; a field keeps it apart).
  const evidence = evidenceLines(reply.evidence);
  const allFields: Array<{ name: string; value: string; inline?: boolean }> = [...(reply.fields ?? [])];
  const evidenceField = evidence.length ? { name: reply.evidence!.label, value: fitLines(evidence, DISCORD_LIMITS.embedFieldValue) } : undefined;
  if (evidenceField) allFields.push(evidenceField);
  const fields: Array<{ name: string; value: string; inline: boolean }> = [];
  for (const f of allFields.slice(0, DISCORD_LIMITS.embedFields)) {
    const rawName = safe(f.name) || '\u200b';
    const rawValue = (f === evidenceField ? f.value : safe(f.value)) || '\u200b';
    const name = truncate(rawName, DISCORD_LIMITS.embedFieldName);
    const value = truncate(rawValue, DISCORD_LIMITS.embedFieldValue);
    if (used + name.length + value.length > DISCORD_LIMITS.embedTotal - descriptionReserve) break;
    shortened ||= name !== rawName || value !== rawValue;
    fields.push({ name, value, inline: f.inline ?? false });
    used += name.length + value.length;
  }
  shortened ||= fields.length < allFields.length;

  const budget = Math.max(0, Math.min(DISCORD_LIMITS.embedDescription, DISCORD_LIMITS.embedTotal - used));
  if (description.length > budget) {
    shortened = true;
    // Shorten the prose first, keeping a pointer to the attached full text.
    const note = `\n\n(shortened; full text attached: ${DETAIL_FILE_NAME})`;
    description = truncate(bodyText, Math.max(0, budget - note.length)) + note;
    if (description.length > budget) description = truncate(description, budget);
  }
  if (description) embed.setDescription(description);
  if (fields.length) embed.addFields(fields);
  if (footer) embed.setFooter({ text: footer });

  const files: RenderedFile[] = [];
  if (reply.image?.data) {
    // The incident picture: uploaded with the message and shown as the embed's image.
    const name = reply.image.name.replace(/[^A-Za-z0-9._-]/g, '_');
    embed.setImage(`attachment://${name}`);
    files.push({ name, data: Buffer.from(reply.image.data), contentType: 'image/png' });
  }
  if (attachDetail || shortened) {
    let data = Buffer.from(plainText(reply, detail), 'utf8');
    if (data.length > MAX_FILE_BYTES) data = Buffer.concat([data.subarray(0, MAX_FILE_BYTES), Buffer.from('\n[truncated]\n')]);
    files.push({ name: DETAIL_FILE_NAME, data });
  }

  // The secret (a tokenized link) is the one value not redacted, and only in a private message.
  const content = reply.private && reply.secret ? reply.secret : undefined;
  return { content, embeds: [embed], components: renderButtons(reply.buttons), files, ephemeral: reply.private ?? false };
}

/** Body of a REST message request (create, edit, interaction response data, follow-up). */
export interface RestMessageBody {
  content?: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIButtonComponent>[];
  attachments: Array<{ id: number; filename: string }>;
  allowed_mentions: { parse: [] };
  flags?: number;
}

/**
 * The REST form of a rendered message. `attachments` is always sent so an edit replaces old
 * attachments (an empty list removes a stale file); nothing in our messages may ping anyone.
 */
export function toRestBody(msg: RenderedMessage, flags?: number): { body: RestMessageBody; files: RawFile[] } {
  const body: RestMessageBody = {
    ...(msg.content !== undefined ? { content: truncate(msg.content, DISCORD_LIMITS.content) } : {}),
    embeds: msg.embeds.map((e) => e.toJSON()),
    components: msg.components.map((c) => c.toJSON()),
    attachments: msg.files.map((f, i) => ({ id: i, filename: f.name })),
    allowed_mentions: { parse: [] },
    ...(flags !== undefined ? { flags } : {}),
  };
  const files: RawFile[] = msg.files.map((f) => ({ name: f.name, data: f.data, contentType: f.contentType ?? 'text/plain; charset=utf-8' }));
  return { body, files };
}
