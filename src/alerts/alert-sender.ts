/**
 * Delivers incident messages to every chat bound to the host (alerts: true) through the durable
 * notify queue. Every delivery carries a messageKey, so a delivery repeated after a crash or a Redis
 * restart edits the same message instead of posting a second one.
 */
import type { AppConfig } from '../config/schema.js';
import { DEFAULTS, MONITOR_DEFAULTS } from '../constants.js';
import type { ChatRef, Reply } from '../domain/types.js';
import type { ButtonIssuer, DeliverySender } from '../domain/ports.js';
import type { Incident } from '../domain/incident.js';
import {
  renderAlert,
  renderEscalation,
  renderFlapNotice,
  renderPictureMessage,
  renderRecovery,
  renderReminder,
  type AlertButtonTokens,
} from './render-incident.js';

/** The chats that get alerts for `host`: `alerts: true` and the host (or "*") among their hosts. */
export function alertChatsFor(config: Pick<AppConfig, 'chats'>, host: string): ChatRef[] {
  return config.chats
    .filter((c) => c.alerts && (c.hosts.includes('*') || c.hosts.includes(host)))
    .map((c) => ({
      platform: c.platform,
      chatId: c.chatId,
      // Discord channels and Telegram groups (negative ids) are shared rooms.
      isGroup: c.platform === 'discord' || c.chatId.startsWith('-'),
    }));
}

/** messageKey of the alert message of `incidentId` in one chat (edited in place as the incident changes). */
export function incidentMessageKey(incidentId: string, chat: Pick<ChatRef, 'platform' | 'chatId'>): string {
  return `incident:${incidentId}:${chat.platform}:${chat.chatId}`;
}

/** The kinds of incident message the sender knows. */
export type IncidentMessageKind = 'alert' | 'reminder' | 'recovery' | 'flap_notice' | 'picture';

export class AlertSender {
  constructor(
    private readonly deps: {
      config: Pick<AppConfig, 'chats' | 'people'>;
      notifier: DeliverySender;
      buttons: ButtonIssuer;
    },
  ) {}

  /** Send (or edit) one kind of message about `inc` to every chat bound to its host. */
  async send(kind: IncidentMessageKind, inc: Incident, now: number): Promise<number> {
    const chats = alertChatsFor(this.deps.config, inc.host);
    for (const chat of chats) {
      let reply: Reply;
      let messageKey: string;
      let replyToKey: string | undefined;
      switch (kind) {
        case 'alert':
          reply = renderAlert(inc, now, {
            tokens: inc.phase === 'firing' ? await this.tokens(inc, chat) : undefined,
            muteLabel: MONITOR_DEFAULTS.muteButtonDuration,
          });
          messageKey = incidentMessageKey(inc.id, chat);
          break;
        case 'reminder':
          reply = renderReminder(inc, now, await this.tokens(inc, chat));
          messageKey = `incident-reminder:${inc.id}:${inc.reminders + 1}:${chat.platform}:${chat.chatId}`;
          break;
        case 'recovery':
          reply = renderRecovery(inc, now);
          messageKey = `incident-recovery:${inc.id}:${inc.fireCount}:${chat.platform}:${chat.chatId}`;
          break;
        case 'flap_notice':
          reply = renderFlapNotice(inc);
          messageKey = `incident-flap:${inc.id}:${inc.fireCount}:${chat.platform}:${chat.chatId}`;
          break;
        case 'picture':
          // Once per incident, answering the alert; only a reference is queued, the sender makes the PNG.
          reply = renderPictureMessage(inc, now);
          messageKey = `incident-picture:${inc.id}:${chat.platform}:${chat.chatId}`;
          replyToKey = incidentMessageKey(inc.id, chat);
          break;
      }
      await this.deps.notifier.send({ chat, reply, messageKey, ...(replyToKey ? { replyToKey } : {}) });
    }
    return chats.length;
  }

  /** Tell the host's chats that a person must look (auto-fix breaker open), naming the admins. */
  async escalate(inc: Incident, reason: string): Promise<void> {
    const admins = this.deps.config.people.filter((p) => p.role === 'admin').map((p) => p.name ?? `${p.platform}:${p.userId}`);
    for (const chat of alertChatsFor(this.deps.config, inc.host)) {
      await this.deps.notifier.send({
        chat,
        reply: renderEscalation(inc, reason, admins),
        messageKey: `incident-escalation:${inc.id}:${inc.fireCount}:${chat.platform}:${chat.chatId}`,
      });
    }
  }

  /** A free-form notice to the chats of `hosts` (deduplicated per chat), e.g. "clawmedic is blind". */
  async notice(hosts: string[], reply: Reply, key: string): Promise<void> {
    const seen = new Set<string>();
    for (const h of hosts) {
      for (const chat of alertChatsFor(this.deps.config, h)) {
        const id = `${chat.platform}:${chat.chatId}`;
        if (seen.has(id)) continue;
        seen.add(id);
        await this.deps.notifier.send({ chat, reply, messageKey: `notice:${key}:${id}` });
      }
    }
  }

  /**
   * Buttons for one chat. Issued one by one (not as siblings): pressing Diagnose must not kill the
   * Ack button of the same alert. The router re-authorizes every press.
   */
  private async tokens(inc: Incident, chat: ChatRef): Promise<AlertButtonTokens> {
    const base = { host: inc.host, platform: chat.platform, chatId: chat.chatId, extra: { incidentId: inc.id } };
    const ttl = DEFAULTS.buttonTtlSec;
    const [[diagnose], [fix], [ack], [mute]] = await Promise.all([
      this.deps.buttons.issue([{ ...base, action: 'diagnose' }], ttl),
      this.deps.buttons.issue([{ ...base, action: 'fix' }], ttl),
      this.deps.buttons.issue([{ ...base, action: 'ack' }], ttl),
      this.deps.buttons.issue([{ ...base, action: 'mute', extra: { incidentId: inc.id, duration: MONITOR_DEFAULTS.muteButtonDuration } }], ttl),
    ]);
    return { diagnose: diagnose!, fix: fix!, ack: ack!, mute: mute! };
  }
}
