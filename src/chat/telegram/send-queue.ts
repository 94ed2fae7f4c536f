/**
 * Outgoing Telegram calls, ordered per chat and paced to Telegram's limits (about 1 message/s per chat,
 * 20/min per group, 30/s overall) with p-queue and each chat's gate (chat-gate.ts). A person's feedback
 * (the answer to a command or button press) goes ahead of the chat's other calls, within a share of the
 * limits kept for it. 429s are retried by grammY's auto-retry inside the task.
 */
import PQueue from 'p-queue';
import { PermanentDeliveryError } from '../../domain/errors.js';
import { redact } from '../../util/redact.js';
import { ChatGate } from './chat-gate.js';

/** Pacing; defaults are Telegram's published broadcast limits. Tests shrink them. */
export interface SendQueueLimits {
  /** Average spacing of calls into one chat, ms. Default 1000. */
  perChatIntervalMs: number;
  /**
   * Calls into one chat that may go back to back before the spacing applies (Telegram allows short
   * bursts). Default 3: a placeholder and its result edit go out at once, a flood is still paced.
   */
  perChatBurst: number;
  /**
   * Of a chat's burst, how many calls only feedback (SEND_PRIORITY.feedback: the answer to a person's
   * command or button press) may take: the bot's own traffic leaves them, so a press just after the bot
   * sent a burst of its own is still answered at once. Every call counts in the chat's pace (a bucket of
   * perChatBurst calls refilled at one per perChatIntervalMs). Default 1: the bot's own traffic goes
   * two back to back, then one per second; a person's answer takes the third.
   */
  perChatFeedbackBurst: number;
  /** Calls per minute into one group/supergroup. Default 20. */
  perGroupPerMinute: number;
  /**
   * The window those calls are counted over, ms. Default 61 000: the limiter counts when a call starts,
   * Telegram when it arrives, and network jitter otherwise lets a 21st call land inside one minute.
   */
  groupWindowMs: number;
  /** Calls per second over all chats. Default 30. */
  globalPerSecond: number;
  /**
   * Of a group's calls per minute, how many alert traffic may never take: kept for replies to people, so
   * in a group flooded with alert edits a reply still finds budget at once. Default 5 (alerts: 15/min).
   */
  replyReservePerMinute: number;
  /**
   * Of a group's calls per minute, how many only feedback may take (progress, result and alert messages
   * never do): after a busy minute, a person's press is still answered at once. Default 2.
   */
  feedbackReservePerMinute: number;
}

/**
 * Order of waiting calls in one chat: feedback (the first answer to a person's command or button press,
 * which also has a reserve of the chat's and group's limits), then other replies to people (a job's
 * progress and result), then the monitor's alert messages and edits, then pictures.
 */
export const SEND_PRIORITY = { feedback: 2, reply: 1, alert: 0, picture: -1 } as const;

/**
 * What a call whose edit was replaced, before it started, by a newer edit of the same message resolves to
 * (run() with `edit.replaces`): nothing was sent for it, and the newer content is on its way.
 */
export const SUPERSEDED: unique symbol = Symbol('superseded');
export type Superseded = typeof SUPERSEDED;

/**
 * The message a call changes, for superseding: `message` names it (chat and message id). `replaces`: the
 * call sets everything a reader sees of it (editMessageText sets text and buttons; no buttons = none), so a
 * waiting call of the same message that also replaces is dropped for it. A partial change (buttons only)
 * passes `replaces: false`: nothing waiting before it is superseded any more, so it is applied in order.
 */
export interface MessageEdit {
  message: string;
  replaces: boolean;
}

/** Telegram's documented limits. */
export const TELEGRAM_SEND_LIMITS: SendQueueLimits = {
  perChatIntervalMs: 1000,
  perChatBurst: 3,
  perChatFeedbackBurst: 1,
  perGroupPerMinute: 20,
  groupWindowMs: 61_000,
  globalPerSecond: 30,
  replyReservePerMinute: 5,
  feedbackReservePerMinute: 2,
};

/** Minimal logger shape (pino-compatible). */
export interface SendQueueLogger {
  warn(obj: object, msg?: string): void;
}

/** The Bot API error shape we classify (grammY's GrammyError has these fields). */
interface ApiErrorLike {
  error_code?: unknown;
  description?: unknown;
}

/** 403s and the 400s that mean "this chat will never accept a message from us". */
const PERMANENT_400 = [
  'chat not found',
  'have no rights to send',
  'not enough rights',
  'chat_write_forbidden',
  'peer_id_invalid',
  'user not found',
  'bot is not a member',
];

/** Is this Bot API error permanent for the chat (bot blocked/kicked, chat gone, no rights)? */
export function isPermanentChatError(err: unknown): boolean {
  const e = err as ApiErrorLike;
  if (typeof e !== 'object' || e === null || typeof e.error_code !== 'number') return false;
  if (e.error_code === 403) return true;
  const description = String(e.description ?? '').toLowerCase();
  return e.error_code === 400 && PERMANENT_400.some((p) => description.includes(p));
}

/** A chat's calls: the lane orders the bot's own traffic by priority; the gate paces every call (feedback goes straight to it). */
interface ChatLane {
  queue: PQueue;
  gate: ChatGate;
  idleTimer?: NodeJS.Timeout;
}

/** A replacing edit not yet started: its task and caller can still be swapped for a newer edit's. */
interface WaitingEdit {
  task: () => Promise<unknown>;
  priority: number;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  /** Its p-queue id once it is in the chat's lane (before that it may wait for the alert budget). */
  laneId?: string;
  /** Superseded before it reached the lane by an edit that did not take its place (see run()). */
  dropped: boolean;
}

/**
 * Per-chat lanes (by priority, first in first out within one), each behind its chat's gate (one call in
 * flight per chat, so order holds even while auto-retry waits out a 429; the chat's pace and, in a group,
 * the minute limit), all behind one global limiter. Feedback skips the lane and waits at the gate's front.
 */
export class TelegramSendQueue {
  private readonly limits: SendQueueLimits;
  private readonly global: PQueue;
  private readonly lanes = new Map<string, ChatLane>();
  /** Per group: the share of the minute budget alert traffic may use (see replyReservePerMinute). */
  private readonly alertBudgets = new Map<string, PQueue>();
  /** Chats whose permanent failure was already logged: one line per chat, not one per message. */
  private readonly loggedDead = new Set<string>();
  /** Replacing edits not yet started, by chat and MessageEdit.message. */
  private readonly waitingEdits = new Map<string, WaitingEdit>();
  private nextLaneId = 1;

  constructor(
    private readonly logger: SendQueueLogger,
    limits: Partial<SendQueueLimits> = {},
  ) {
    this.limits = { ...TELEGRAM_SEND_LIMITS, ...limits };
    this.global = new PQueue({ intervalCap: this.limits.globalPerSecond, interval: 1000, strict: true });
  }

  /**
   * Run `task` (one Bot API call into `chatId`) in that chat's lane. A permanent chat error becomes
   * PermanentDeliveryError (logged once per chat); other errors propagate unchanged.
   *
   * With `edit.replaces`, a newer replacing edit of the same message that comes while this one has not
   * started takes its place: this call then resolves to SUPERSEDED without sending, and only the newest
   * content goes out, once, at the earlier call's place in the lane (at the higher of the two priorities).
   * In a busy group, stale progress edits would otherwise each spend a call of the group's pace.
   */
  run<T>(chatId: string, isGroup: boolean, task: () => Promise<T>, priority?: number): Promise<T>;
  run<T>(chatId: string, isGroup: boolean, task: () => Promise<T>, priority: number | undefined, edit: MessageEdit): Promise<T | Superseded>;
  run<T>(chatId: string, isGroup: boolean, task: () => Promise<T>, priority: number = SEND_PRIORITY.reply, edit?: MessageEdit): Promise<T | Superseded> {
    if (!edit) return this.runNow(chatId, isGroup, task, priority) as Promise<T>; // nothing supersedes it
    const key = `${chatId}\u0000${edit.message}`;
    const earlier = this.waitingEdits.get(key);
    if (!edit.replaces) {
      // Buttons-only: an edit waiting before it must not take a newer edit's content past it, nor may this
      // overtake it (as feedback skipping the lane would): it then goes at that edit's priority, behind it.
      this.waitingEdits.delete(key);
      return this.runNow(chatId, isGroup, task, earlier ? Math.min(priority, earlier.priority) : priority);
    }
    // An earlier alert edit still waiting for the alert budget (outside the lane) would make a person's
    // edit wait for it, and feedback does not wait in the lane at all: the earlier edit is then dropped
    // instead and this one goes its own way.
    const isFeedback = (p: number): boolean => p >= SEND_PRIORITY.feedback;
    const swap =
      earlier !== undefined &&
      (isFeedback(priority) ? isFeedback(earlier.priority) : earlier.laneId !== undefined || priority <= earlier.priority);
    return new Promise<T | Superseded>((resolve, reject) => {
      if (earlier && swap) {
        earlier.resolve(SUPERSEDED);
        earlier.task = task;
        earlier.resolve = resolve as (value: unknown) => void;
        earlier.reject = reject;
        if (priority > earlier.priority) {
          earlier.priority = priority;
          try {
            this.lanes.get(chatId)?.queue.setPriority(earlier.laneId!, priority);
          } catch {
            // Already taken from the lane this very moment: it goes out now anyway.
          }
        }
        return;
      }
      if (earlier) {
        earlier.resolve(SUPERSEDED);
        earlier.dropped = true;
      }
      const waiting: WaitingEdit = { task, priority, resolve: resolve as (value: unknown) => void, reject, dropped: false };
      this.waitingEdits.set(key, waiting);
      const started = (): Promise<unknown> => {
        if (this.waitingEdits.get(key) === waiting) this.waitingEdits.delete(key);
        return waiting.task();
      };
      this.runNow(chatId, isGroup, started, priority, waiting).then(
        (value) => waiting.resolve(value),
        (err: unknown) => waiting.reject(err),
      );
    });
  }

  private async runNow<T>(chatId: string, isGroup: boolean, task: () => Promise<T>, priority: number, waiting?: WaitingEdit): Promise<T | Superseded> {
    // An alert takes its share of the group budget before it enters the chat's lane: waiting for budget
    // inside the lane would hold the lane (one call at a time) and the reply behind it.
    if (isGroup && priority === SEND_PRIORITY.alert) await this.alertBudget(chatId).add(() => undefined);
    // Dropped for a person's edit of the same message while it waited for the budget: it takes no place in the lane.
    if (waiting?.dropped) return SUPERSEDED;
    const lane = this.lane(chatId, isGroup);
    try {
      let result: T | Superseded;
      if (priority >= SEND_PRIORITY.feedback) {
        // Feedback does not wait for the lane's pace: only for the call in flight, and its own reserve of the limits.
        result = await this.gated(lane, true, task, waiting);
      } else {
        const id = String(this.nextLaneId++);
        if (waiting) waiting.laneId = id;
        // Within a chat, a reply to a person overtakes alert edits still waiting (same priority: first in, first out).
        result = (await lane.queue.add(() => this.gated(lane, false, task, waiting), { priority, id })) as T | Superseded;
      }
      this.loggedDead.delete(chatId);
      return result;
    } catch (err) {
      if (!isPermanentChatError(err)) throw err;
      const description = redact(String((err as ApiErrorLike).description ?? 'forbidden'));
      if (!this.loggedDead.has(chatId)) {
        this.loggedDead.add(chatId);
        this.logger.warn({ chatId, description }, 'telegram: chat does not accept messages from the bot; dropping its messages');
      }
      throw new PermanentDeliveryError(`Telegram chat ${chatId}: ${description}`, chatId);
    } finally {
      void lane.queue.onIdle().then(() => this.scheduleLaneCleanup(chatId, lane));
    }
  }

  /** One call at its chat's gate, then through the global limiter; not sent if its edit was dropped meanwhile. */
  private async gated<T>(lane: ChatLane, feedback: boolean, task: () => Promise<T>, waiting?: WaitingEdit): Promise<T | Superseded> {
    if (waiting?.dropped) return SUPERSEDED;
    const release = await lane.gate.acquire(feedback);
    try {
      if (waiting?.dropped) return SUPERSEDED;
      return (await this.global.add(task)) as T;
    } finally {
      release();
    }
  }

  /** Resolves when every lane has drained (used by stop()). */
  async onIdle(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((l) => l.queue.onIdle()));
    await this.global.onIdle();
  }

  /** Drop idle lanes and timers (after stop). */
  close(): void {
    for (const lane of this.lanes.values()) {
      if (lane.idleTimer) clearTimeout(lane.idleTimer);
      lane.gate.close();
    }
    this.lanes.clear();
    this.alertBudgets.clear();
  }

  private alertBudget(chatId: string): PQueue {
    let budget = this.alertBudgets.get(chatId);
    if (!budget) {
      const cap = Math.max(1, this.limits.perGroupPerMinute - this.limits.replyReservePerMinute);
      budget = new PQueue({ intervalCap: cap, interval: this.limits.groupWindowMs, strict: true });
      this.alertBudgets.set(chatId, budget);
    }
    return budget;
  }

  private lane(chatId: string, isGroup: boolean): ChatLane {
    let lane = this.lanes.get(chatId);
    if (!lane) {
      const { perChatBurst, perChatFeedbackBurst, perChatIntervalMs, perGroupPerMinute, groupWindowMs, feedbackReservePerMinute } = this.limits;
      const feedbackReserve = Math.max(0, Math.min(perChatFeedbackBurst, perChatBurst - 1));
      const ownBurst = perChatBurst - feedbackReserve;
      lane = {
        // concurrency 1 keeps the order per chat; the lane takes the next call by priority at the pace the
        // gate gives the bot's own traffic (its share of the burst, then one per interval), so a reply that
        // comes meanwhile still goes first.
        queue: new PQueue({ concurrency: 1, intervalCap: ownBurst, interval: perChatIntervalMs * ownBurst, strict: true }),
        gate: new ChatGate({
          intervalMs: perChatIntervalMs,
          burst: perChatBurst,
          feedbackReserve,
          ...(isGroup ? { group: { windowMs: groupWindowMs, cap: perGroupPerMinute, feedbackReserve: feedbackReservePerMinute } } : {}),
        }),
      };
      this.lanes.set(chatId, lane);
    }
    if (lane.idleTimer) {
      clearTimeout(lane.idleTimer);
      delete lane.idleTimer;
    }
    return lane;
  }

  /** Forget a lane once it has been idle for the group window (its gate then remembers nothing), so memory stays bounded. */
  private scheduleLaneCleanup(chatId: string, lane: ChatLane): void {
    if (lane.queue.size > 0 || lane.queue.pending > 0) return;
    if (lane.idleTimer) clearTimeout(lane.idleTimer);
    lane.idleTimer = setTimeout(() => {
      if (lane.queue.size === 0 && lane.queue.pending === 0 && lane.gate.idle && this.lanes.get(chatId) === lane) {
        lane.gate.close();
        this.lanes.delete(chatId);
      } else if (this.lanes.get(chatId) === lane) {
        this.scheduleLaneCleanup(chatId, lane);
      }
    }, Math.max(60_000, this.limits.groupWindowMs + 1000));
    lane.idleTimer.unref();
  }
}
