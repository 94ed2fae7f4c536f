/**
 * Platform-neutral types shared by every layer. Nothing here imports grammY, discord.js,
 * ssh2 or BullMQ: adapters translate to and from these shapes at their edge.
 */

/** Where a command came from and where its replies go. */
export type Platform = 'telegram' | 'discord' | 'console';

/** What a person may do; each role includes the ones before it. */
export type Role = 'viewer' | 'operator' | 'admin';

/** The person who sent a command or pressed a button, by immutable platform id. */
export interface Actor {
  platform: Platform;
  /** Immutable platform user id (Telegram numeric id, Discord snowflake, console id). Never a username. */
  userId: string;
  /** For display only; never used to decide anything. */
  displayName?: string;
  /** Discord role ids the member holds in the guild the command came from (optional authz input). */
  roleIds?: string[];
}

/** A conversation: a Telegram chat, a Discord channel, or the console. */
export interface ChatRef {
  platform: Platform;
  /** Platform chat/channel id as a string. */
  chatId: string;
  /** True for groups, supergroups, guild channels: private material (tokenized links) never goes there. */
  isGroup: boolean;
}

/** Commands clawmedic knows; anything else is refused with a help hint. */
export const COMMAND_NAMES = [
  'status',
  'diagnose',
  'fix',
  'hosts',
  'history',
  'help',
  'start',
  'mute',
  'unmute',
  'ack',
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** One typed-in command, already split into words by the adapter (or raw text for the router to split). */
export interface Command {
  actor: Actor;
  chat: ChatRef;
  /** The text as typed, e.g. "/fix prod". The router parses it; adapters may pre-split nothing. */
  text: string;
  /** Platform id of this request (Telegram update id, Discord interaction id) so a redelivered one is not run twice. */
  requestId?: string;
}

/** A button press: the opaque token the router issued, plus who pressed it where. */
export interface ButtonPress {
  actor: Actor;
  chat: ChatRef;
  token: string;
}

/**
 * What a button does once pressed (the router re-checks authorization on every press). 'pick' marks a
 * host picker button (its stored state says diagnose or fix): adapters answer it in the same message.
 */
export type ButtonAction = 'diagnose' | 'fix' | 'confirm' | 'cancel' | 'ack' | 'mute' | 'restore' | 'bring_back' | 'pick';

/** A button rendered under a reply. `token` is opaque (≤ 64 bytes) and points to state in Redis. */
export interface ReplyButton {
  label: string;
  action: ButtonAction;
  token: string;
  /** Visual hint: confirm buttons are 'danger' for state-changing fixes. */
  style?: 'primary' | 'secondary' | 'danger' | 'success';
}

/** Overall tone of a reply; adapters map it to colour (Discord embed) or a status word (Telegram). */
export type ReplyTone = 'info' | 'pending' | 'ok' | 'warn' | 'error';

/** A name/value pair shown as a field (Discord embed field, a bold label line in Telegram). */
export interface ReplyField {
  name: string;
  value: string;
  inline?: boolean;
}

/** Evidence shown once, folded under the summary (plain text lines; adapters redact and escape). */
export interface ReplyEvidence {
  /** Heading of the folded block, e.g. "Evidence". */
  label: string;
  lines: string[];
}

/**
 * A platform-neutral message. Every string in it is already redacted and is plain text:
 * adapters escape it for their markup (HTML for Telegram, markdown-safe for Discord).
 */
export interface Reply {
  /** One-line summary shown first: "prod: token mismatch (high confidence)". */
  title: string;
  tone: ReplyTone;
  /** Paragraphs of plain text after the title. */
  body?: string[];
  fields?: ReplyField[];
  /** Evidence lines, shown once and folded (Telegram expandable blockquote, Discord embed field, console indented). */
  evidence?: ReplyEvidence;
  /** Preformatted output (command output); adapters may attach it as a file when long. */
  detail?: string;
  buttons?: ReplyButton[];
  /** Footer: duration, versions (never job ids: those stay in the audit trail and logs). */
  footer?: string;
  /** Only the requester should see it (Discord ephemeral; Telegram: sent to the user's private chat). */
  private?: boolean;
  /**
   * A secret meant for the requester alone (a fresh tokenized dashboard link). The only string
   * adapters do not redact; rendered only when `private` is true, never logged.
   */
  secret?: string;
  /**
   * A picture shown with the message (Telegram photo, Discord embed image, console file path). Only a
   * reference travels through Redis; the sending process renders or fetches the PNG ({@link ReplyImage}).
   */
  image?: ReplyImage;
}

/** Which picture to show: the recent hours of one host, with an incident's window shaded. */
export interface PictureRef {
  kind: 'host-hours';
  host: string;
  /** The incident whose window is shaded (its phase and times are read when the picture is made). */
  incidentId?: string;
  /** Hours shown, ending now. */
  hours: number;
}

/** A picture attached to a reply: a reference (queued) and, in the sending process only, its bytes. */
export interface ReplyImage {
  /** File name as the platform shows it, e.g. "incident.png". */
  name: string;
  /** Plain-text description of the picture (alt text; the caption is the reply's title). */
  alt: string;
  ref: PictureRef;
  /** The PNG, filled in by the sending process just before the adapter sends; never queued or stored as JSON. */
  data?: Uint8Array;
}

/**
 * One message to deliver through the durable notify queue.
 * `messageKey` names a logical message: the first delivery with a key sends, later ones edit it in place.
 */
export interface Delivery {
  chat: ChatRef;
  reply: Reply;
  /** Logical message id (e.g. "job:<id>" or "incident:<host>:<cause>:<chat>"); adapters map it to a platform message. */
  messageKey?: string;
  /** For private replies: the user to send to directly (Telegram DM, Discord DM/ephemeral follow-up). */
  userId?: string;
  /**
   * Button tokens this delivery retires: it is shown only if they are still unused (then they are
   * deleted), so an expiry notice never overwrites a confirmation someone already pressed.
   */
  retires?: string[];
  /**
   * For a reply carrying a `secret`: what the requester is shown instead when the secret could not be
   * delivered while it was kept (DELIVERY.secretTtlSec), e.g. "ask for a new link". A generic notice otherwise.
   */
  secretFallback?: Reply;
  /** messageKey of the message this one answers (Telegram reply, Discord message reference); sent alone if that one is gone. */
  replyToKey?: string;
}

/** What a router hands back to an adapter for an incoming command or button press. */
export interface RouterResponse {
  reply: Reply;
  /** If set, later deliveries for the job will use this key: the adapter must remember the message it sends. */
  messageKey?: string;
  /** The pressed message's buttons are all spent (siblings die together): the adapter removes its keyboard. */
  spentKeyboard?: boolean;
  /**
   * Nobody needs to see this reply again (a flood past its limit, an unknown user already told):
   * adapters that can stay quiet do (Telegram sends nothing; a button press still gets its toast).
   */
  silent?: boolean;
}

/** Who a command menu is for: everyone (default), everyone in one chat, or one person in one chat. */
export type MenuScope =
  | { kind: 'default' }
  | { kind: 'chat'; chatId: string }
  | { kind: 'chat_member'; chatId: string; userId: string };

/** The commands a platform's "/" menu shows to one audience (router/menus.ts builds them). */
export interface Menu {
  scope: MenuScope;
  commands: CommandName[];
}

/** An adapter is receiving, or not since `since` (epoch ms) for `reason` (no secrets: adapters redact). */
export type ReceiveState = { ok: true } | { ok: false; since: number; reason: string };

/** Who asked, from where, and which message shows the progress. */
export interface JobOrigin {
  requestId: string;
  actor: Actor;
  chat: ChatRef;
  messageKey: string;
}

/** Who runs a piece of work: enough to tell, from another process, whether it is still there. */
export interface ProcessOwner {
  /** Unique per process start: `<hostname>:<pid>:<random>`. */
  id: string;
  hostname: string;
  pid: number;
  /**
   * Kernel boot id + pid namespace: two processes with the same `machine` see each other's pids,
   * so a pid that is gone there means the owner is gone. Never equal across machines or containers.
   */
  machine: string;
}
