/** Button custom ids: `<action>:<token>`, so the adapter knows the action and the router only sees the opaque token. */
import type { Reply } from '../../domain/types.js';
import { renderReply, type RenderedMessage } from './render.js';

/** Custom ids are `<action>:<token>`: the router only ever sees the opaque token. */
const CUSTOM_ID_SEPARATOR = ':';

/** Render with buttons carrying `<action>:<token>` as custom_id. */
export function renderWithCustomIds(reply: Reply): RenderedMessage {
  const buttons = reply.buttons?.map((b) => ({ ...b, token: `${b.action}${CUSTOM_ID_SEPARATOR}${b.token}` }));
  return renderReply(buttons ? { ...reply, buttons } : reply);
}

/** The action and token of one of our custom ids; undefined for anything else. */
export function parseCustomId(customId: string): { action: string; token: string } | undefined {
  const sep = customId.indexOf(CUSTOM_ID_SEPARATOR);
  if (sep < 0) return undefined;
  return { action: customId.slice(0, sep), token: customId.slice(sep + 1) };
}
