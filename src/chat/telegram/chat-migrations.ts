/**
 * Group → supergroup moves: Telegram gives a group a new chat id when it becomes a supergroup, and
 * every later send must use it. Known moves live in memory and in the ref store (they outlive a restart).
 */
import type { MessageRefStore } from '../../domain/ports.js';

/** Prefix under which chat migrations (group → supergroup) are remembered in the ref store. */
const MIGRATION_KEY = 'chat-migrated:';
/**
 * How long "this chat has not migrated" is believed without asking Redis again. Safe to cache: a send
 * into a migrated group fails with migrate_to_chat_id, which the sender follows at once.
 */
const NOT_MIGRATED_TTL_MS = 5 * 60_000;
/** Bound on that cache (one entry per chat written to). */
const NOT_MIGRATED_MAX = 10_000;

/** Logger subset the migrations use. */
export interface MigrationLogger {
  warn(obj: object, msg?: string): void;
}

/** The current chat id for any chat id we were given, following recorded moves. */
export class ChatMigrations {
  /** Known group → supergroup moves (also persisted in the ref store). */
  private readonly migrations = new Map<string, string>();
  /** Chats found not migrated, with when that answer expires: saves a Redis read per call. */
  private readonly notMigrated = new Map<string, number>();

  constructor(
    private readonly refs: MessageRefStore,
    private readonly log: MigrationLogger,
  ) {}

  /** Remember that `oldId` became `newId` (a migrate_to_chat_id update or a send refused with it). */
  async record(oldId: string, newId: string): Promise<void> {
    this.migrations.set(oldId, newId);
    this.notMigrated.delete(oldId);
    await this.refs.set('telegram', MIGRATION_KEY + oldId, newId);
    this.log.warn(
      { oldChatId: oldId, newChatId: newId },
      'telegram: group became a supergroup; messages now go to the new id. Update the chat id in clawmedic.yaml.',
    );
  }

  /** The chat id to send to for `chatId` (at most three moves are followed). */
  async resolve(chatId: string): Promise<string> {
    let current = chatId;
    for (let hops = 0; hops < 3; hops++) {
      let next = this.migrations.get(current);
      if (next === undefined) {
        if ((this.notMigrated.get(current) ?? 0) > Date.now()) return current;
        next = await this.refs.get('telegram', MIGRATION_KEY + current);
        if (next !== undefined) this.migrations.set(current, next);
      }
      if (next === undefined) {
        if (this.notMigrated.size >= NOT_MIGRATED_MAX) this.notMigrated.clear();
        this.notMigrated.set(current, Date.now() + NOT_MIGRATED_TTL_MS);
        return current;
      }
      current = next;
    }
    return current;
  }
}
