/**
 * Where a logical message (a messageKey) lives on Discord, and the refs being written right now,
 * so a delivery that races the first answer edits it instead of sending a second message.
 */

/**
 * Where a logical message lives on Discord; JSON in the MessageRefStore. The interaction token that
 * can edit it is not in here: it is kept sealed beside it (MessageRefStore.setSecret) until `hook.expiresAt`.
 */
export interface DiscordMessageRef {
  v: 1;
  channelId: string;
  messageId?: string;
  /** Interaction webhook that can edit it until expiresAt (needed for ephemeral messages). */
  hook?: { expiresAt: number; target: string };
  ephemeral?: boolean;
}

/** Read a stored ref; undefined for anything that is not a version-1 ref. */
export function parseRef(raw: string | undefined): DiscordMessageRef | undefined {
  if (!raw) return undefined;
  try {
    const ref = JSON.parse(raw) as DiscordMessageRef;
    return ref.v === 1 && typeof ref.channelId === 'string' ? ref : undefined;
  } catch {
    return undefined;
  }
}

/** messageKeys whose first message is being sent right now: a delivery waits for their ref. */
export class PendingRefs {
  private readonly pending = new Map<string, Promise<void>>();

  /** Resolves once the ref for `key` (if one is being written) is stored or has failed. */
  wait(key: string): Promise<void> | undefined {
    return this.pending.get(key);
  }

  /** Await `work`, which writes the ref for `key`; meanwhile wait(key) waits for it. Rethrows its failure. */
  async during(key: string, work: Promise<void>): Promise<void> {
    const tracked = work.catch(() => undefined);
    this.pending.set(key, tracked);
    try {
      await work;
    } finally {
      if (this.pending.get(key) === tracked) this.pending.delete(key);
    }
  }
}
