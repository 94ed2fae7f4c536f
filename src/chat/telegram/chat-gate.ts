/**
 * One chat's turn-taking for outgoing Telegram calls: one call in flight at a time (so edits of one
 * message land in order); Telegram's ≈1 message/s per chat with short bursts as a bucket of `burst`
 * calls refilled at one per `intervalMs`; and in a group at most `group.cap` calls in any
 * `group.windowMs` (Telegram's 20/min per group). Every call takes from both.
 *
 * Feedback (the first answer to a person's command or button press) waits ahead of everything else,
 * and may take the last `feedbackReserve` calls of the bucket and `group.feedbackReserve` calls of the
 * group window, which other traffic never takes: the bot's own progress and alert edits cannot empty
 * the chat's pace just before a person presses a button, so the press is answered at once.
 */

/** Limits of one chat's gate. */
export interface ChatGateLimits {
  /** One call's worth of the bucket comes back every intervalMs. */
  intervalMs: number;
  /** The bucket's size: calls that may go back to back. */
  burst: number;
  /** Calls of the bucket only feedback may take (other traffic leaves them); at most burst - 1. */
  feedbackReserve: number;
  /** For groups: the group window and its cap (undefined: a private chat, no group limit). */
  group?: { windowMs: number; cap: number; feedbackReserve: number };
}

interface Waiter {
  feedback: boolean;
  grant: (release: () => void) => void;
}

/** Drop timestamps older than the window from the front of `starts` (the group's minute). */
function prune(starts: number[], windowMs: number, now: number): void {
  let i = 0;
  while (i < starts.length && starts[i]! <= now - windowMs) i++;
  if (i > 0) starts.splice(0, i);
}

/** How long until one more call may start under `cap` calls per window (0: now). */
function waitUnder(starts: number[], cap: number, windowMs: number, now: number): number {
  if (starts.length < cap) return 0;
  return Math.max(1, starts[starts.length - cap]! + windowMs - now);
}

export class ChatGate {
  /** Calls left in the chat's bucket at `filledAt`. */
  private tokens: number;
  private filledAt: number;
  private readonly groupStarts: number[] = [];
  private readonly waiters: Waiter[] = [];
  private busy = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: ChatGateLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = limits.burst;
    this.filledAt = now();
  }

  /**
   * Wait for this chat's turn; resolves with release(), which the caller must call once its call has
   * finished (or failed). Feedback waits ahead of other calls, feedback among itself first come first served.
   */
  acquire(feedback: boolean): Promise<() => void> {
    return new Promise((grant) => {
      const waiter: Waiter = { feedback, grant };
      const firstOther = feedback ? this.waiters.findIndex((w) => !w.feedback) : -1;
      if (firstOther === -1) this.waiters.push(waiter);
      else this.waiters.splice(firstOther, 0, waiter);
      this.pump();
    });
  }

  /** Nothing in flight, nothing waiting, and no start inside the group window (so forgetting it loses nothing). */
  get idle(): boolean {
    const now = this.now();
    prune(this.groupStarts, this.limits.group?.windowMs ?? 0, now);
    return !this.busy && this.waiters.length === 0 && this.groupStarts.length === 0;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private waitFor(feedback: boolean, now: number): number {
    const { intervalMs, burst, feedbackReserve, group } = this.limits;
    this.tokens = Math.min(burst, this.tokens + (now - this.filledAt) / intervalMs);
    this.filledAt = now;
    // Feedback needs one call in the bucket; other traffic one more than the reserve it leaves.
    const need = feedback ? 1 : Math.min(burst, 1 + feedbackReserve);
    let wait = this.tokens >= need ? 0 : Math.ceil((need - this.tokens) * intervalMs);
    if (group) {
      prune(this.groupStarts, group.windowMs, now);
      const cap = Math.max(1, group.cap - (feedback ? 0 : group.feedbackReserve));
      wait = Math.max(wait, waitUnder(this.groupStarts, cap, group.windowMs, now));
    }
    return wait;
  }

  /**
   * Grant the next turn if the chat is free and the first waiter's limits allow it (feedback is first and
   * its limits are the looser, so when the first waiter must wait, everyone behind it must too).
   */
  private pump(): void {
    if (this.busy || this.waiters.length === 0) return;
    const now = this.now();
    const head = this.waiters[0]!;
    const wait = this.waitFor(head.feedback, now);
    if (wait > 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wait);
      return;
    }
    this.waiters.shift();
    this.busy = true;
    this.tokens -= 1;
    if (this.limits.group) this.groupStarts.push(now);
    let released = false;
    head.grant(() => {
      if (released) return;
      released = true;
      this.busy = false;
      this.pump();
    });
  }
}
