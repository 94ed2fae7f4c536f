/** Which Telegram message a logical messageKey was sent as; stored in the MessageRefStore as "chatId:messageId". */

/** A platform message we sent: where and which id. */
export interface MessageRef {
  chatId: string;
  messageId: number;
}

/** The stored form, "chatId:messageId". */
export const formatRef = (r: MessageRef): string => `${r.chatId}:${r.messageId}`;

/** Read a stored ref back; undefined for anything that is not "chatId:messageId". */
export function parseRef(s: string | undefined): MessageRef | undefined {
  if (!s) return undefined;
  const i = s.lastIndexOf(':');
  const messageId = Number(s.slice(i + 1));
  return i > 0 && Number.isInteger(messageId) ? { chatId: s.slice(0, i), messageId } : undefined;
}
