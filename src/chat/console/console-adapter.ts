/**
 * The local console adapter: the same router and queues as Telegram and Discord, driven from
 * a terminal (`clawmedic console`) or one shot (`clawmedic run "/status prod"`). Buttons are
 * numbered; typing the number presses it. Replies arrive over Redis pub/sub (see Notifier).
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RedisClient } from '../../state/redis.js';
import type { ChatAdapter, RouterPort } from '../../domain/ports.js';
import type { Actor, ChatRef, Delivery, PictureRef, Reply, ReplyButton } from '../../domain/types.js';
import { openDelivery, secretNotice, type SequencedDelivery } from '../../jobs/notifier.js';
import type { KeySpace } from '../../state/key-space.js';
import type { SecretBox } from '../../util/secret-box.js';
import { renderText } from './render-text.js';

export interface ConsoleAdapterOptions {
  router: RouterPort;
  /** A dedicated connection: a subscribed ioredis client can do nothing else. */
  subscriber: RedisClient;
  /** Names the session's pub/sub channel. */
  keys: KeySpace;
  /** The console user id from config (console.userId). */
  userId: string;
  /** Where text goes (stdout by default). */
  write?: (text: string) => void;
  /** Opens a reply's sealed secret (a fresh dashboard link) when it is shown; the same key as the Notifier's. */
  box: SecretBox;
  /** Makes the PNG of a reply's picture (alerts/picture-source.ts); without it a picture message prints its title only. */
  pictures?: { png(ref: PictureRef): Promise<Uint8Array | undefined> };
  /** Where pictures are written (default: the system's temporary directory). */
  pictureDir?: string;
}

/** A reply that is final for its message: not a "working on it" state. */
export function isFinal(reply: Reply): boolean {
  return reply.tone !== 'pending';
}

export class ConsoleAdapter implements ChatAdapter {
  readonly platform = 'console' as const;
  readonly actor: Actor;
  readonly chat: ChatRef;
  private readonly write: (text: string) => void;
  /** Buttons currently on screen, by the number shown. */
  private buttons: ReplyButton[] = [];
  private readonly waiters = new Set<(d: Delivery) => void>();
  private readonly lastSeq = new Map<string, number>();
  /** Latest reply per messageKey, so a waiter registered after a fast delivery still sees it. */
  private readonly latest = new Map<string, Reply>();

  constructor(private readonly opts: ConsoleAdapterOptions) {
    this.actor = { platform: 'console', userId: opts.userId, displayName: `console:${opts.userId}` };
    // One chat per console session so two terminals never see each other's replies.
    this.chat = { platform: 'console', chatId: `${opts.userId}-${randomBytes(4).toString('hex')}`, isGroup: false };
    this.write = opts.write ?? ((t) => process.stdout.write(`${t}\n`));
  }

  async start(): Promise<void> {
    const channel = this.opts.keys.consoleChannel(this.chat.chatId);
    this.opts.subscriber.on('message', (ch: string, raw: string) => {
      if (ch !== channel) return;
      const d = JSON.parse(raw) as SequencedDelivery;
      void this.deliver(d);
    });
    await this.opts.subscriber.subscribe(channel);
  }

  async stop(): Promise<void> {
    await this.opts.subscriber.unsubscribe().catch(() => undefined);
  }

  async deliver(delivery: SequencedDelivery): Promise<void> {
    let d = delivery;
    if (d.sealedSecret !== undefined) {
      // Published sealed (pub/sub goes through Redis too); opened only here, to be shown.
      try {
        d = openDelivery(this.opts.box, d);
      } catch {
        d = secretNotice(d);
      }
    }
    if (d.messageKey && d.seq !== undefined) {
      // Pub/sub can reorder nothing, but a retried publish could repeat: show only newer states.
      if ((this.lastSeq.get(d.messageKey) ?? 0) >= d.seq) return;
      this.lastSeq.set(d.messageKey, d.seq);
    }
    if (d.messageKey) this.latest.set(d.messageKey, d.reply);
    if (d.reply.image) {
      // A terminal shows no pictures: the PNG goes to a file and its path is printed.
      // Nothing recorded for the host (no monitor running): the picture message is not shown at all.
      const where = await this.writePicture(d.reply);
      if (where !== undefined) this.write(renderText(d.reply, this.buttons.length + 1, where));
      for (const w of this.waiters) w(d);
      return;
    }
    this.show(d.reply);
    for (const w of this.waiters) w(d);
  }

  /** Write a reply's picture to a file; its path, a reason it failed, or undefined when there is no picture to make. */
  private async writePicture(reply: Reply): Promise<string | undefined> {
    const image = reply.image!;
    try {
      const data = image.data ?? (await this.opts.pictures?.png(image.ref));
      if (!data) return undefined;
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
      const name = `clawmedic-${image.ref.host}-${image.ref.incidentId ?? 'recent'}-${stamp}.png`.replace(/[^A-Za-z0-9._-]/g, '_');
      const file = path.join(this.opts.pictureDir ?? os.tmpdir(), name);
      await writeFile(file, data);
      return file;
    } catch (err) {
      return `(picture not written: ${err instanceof Error ? err.message : String(err)})`;
    }
  }

  /** Print a reply and remember its buttons under fresh numbers. */
  show(reply: Reply): void {
    const first = this.buttons.length + 1;
    this.buttons.push(...(reply.buttons ?? []));
    this.write(renderText(reply, first));
  }

  /** Handle one line typed by the user: a command, or the number of a button. Returns the router's answer. */
  async input(line: string): Promise<{ reply: Reply; messageKey?: string }> {
    const text = line.trim();
    if (/^\d{1,3}$/.test(text)) {
      const button = this.buttons[Number(text) - 1];
      if (!button) {
        const reply: Reply = { title: `No button ${text} on screen.`, tone: 'error' };
        this.show(reply);
        return { reply };
      }
      const res = await this.opts.router.handleButton({ actor: this.actor, chat: this.chat, token: button.token });
      this.show(res.reply);
      return res;
    }
    const res = await this.opts.router.handleCommand({ actor: this.actor, chat: this.chat, text });
    this.show(res.reply);
    return res;
  }

  /** Press a button of a reply directly (one-shot `run --yes`). */
  async press(button: ReplyButton): Promise<{ reply: Reply; messageKey?: string }> {
    const res = await this.opts.router.handleButton({ actor: this.actor, chat: this.chat, token: button.token });
    this.show(res.reply);
    return res;
  }

  /** Wait for the first delivery for `messageKey` that satisfies `until` (default: a final state). */
  waitFor(messageKey: string, timeoutMs: number, until: (r: Reply) => boolean = isFinal): Promise<Reply> {
    const seen = this.latest.get(messageKey);
    if (seen && until(seen)) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(onDelivery);
        reject(new Error(`no result within ${Math.round(timeoutMs / 1000)} s (is a worker running? see "clawmedic worker")`));
      }, timeoutMs);
      const onDelivery = (d: Delivery) => {
        if (d.messageKey !== messageKey || !until(d.reply)) return;
        clearTimeout(timer);
        this.waiters.delete(onDelivery);
        resolve(d.reply);
      };
      this.waiters.add(onDelivery);
    });
  }
}
