/**
 * The router's refusals that are more than a reply: an unknown user and a flood are answered once per
 * period and audited with how many were refused silently since; a forged button is audited and logged.
 */
import type { Actor, ChatRef, Platform, RouterResponse } from '../domain/types.js';
import { humanDuration } from '../util/human-duration.js';
import { refusal } from '../render/render-basic.js';
import type { RouterDeps } from './router-deps.js';

export type Who = Pick<Actor, 'platform' | 'userId'>;
export type Where = Pick<ChatRef, 'platform' | 'chatId'>;

/** An unknown user: told once per period (and audited, with how many were refused silently since), then quiet. */
export async function refuseUnknown(deps: RouterDeps, action: string, who: Who, where: Where): Promise<RouterResponse> {
  const reply = refusal(
    `You are not allowed to use clawmedic (user id ${who.userId} on ${who.platform} is not in the config). ` + 'Ask an admin to add you under "people".',
  );
  const first = await deps.limits.firstRefusal('unknown', who);
  if (!first.answer) return { reply, silent: true };
  const quiet = humanDuration(deps.limits.settings.unknownReplySec);
  await deps.audit.record({
    event: 'denied',
    action,
    actor: who,
    chat: where,
    detail: `user not in config${silencedNote(first.silencedBefore)}; further attempts in the next ${quiet} are refused without a reply or an entry`,
  });
  return { reply };
}

/** Past the person's or the chat's limit: told once per window (audited), then quiet until the window ends. */
export async function refuseIfLimited(deps: RouterDeps, action: string, who: Who, where: Where): Promise<RouterResponse | undefined> {
  const verdict = await deps.limits.take(who, where);
  if (verdict.ok) return undefined;
  const { perPerson, perChat, windowSec } = deps.limits.settings;
  const limit = verdict.scope === 'person' ? `${perPerson} requests per ${windowSec} s from one person` : `${perChat} requests per ${windowSec} s in one chat`;
  const reply = refusal(`Too many requests (limit: ${limit}). Nothing was started; try again in ${verdict.retryAfterSec} s.`);
  const first = await deps.limits.firstRefusal('limited', who);
  if (!first.answer) return { reply, silent: true };
  await deps.audit.record({ event: 'denied', action, actor: who, chat: where, detail: `rate limit: ${limit}${silencedNote(first.silencedBefore)}` });
  return { reply };
}

/** A button whose stored state fails its signature was edited or written in Redis by someone else. */
export async function refuseForgedButton(deps: RouterDeps, who: { platform: Platform; userId: string }, where: { platform: Platform; chatId: string }): Promise<RouterResponse> {
  await deps.audit.record({ event: 'refused', action: 'button', actor: who, chat: where, detail: 'button state failed its signature check (edited or forged in Redis); nothing was run' });
  deps.logger.warn({ actor: who }, 'refused a button whose stored state failed its signature check');
  return { reply: refusal('This button cannot be used (its stored state failed a check). Nothing was run; send the command again.') };
}

/** "; 12 more refused without a reply since the last entry" — how a silenced flood shows up in the audit. */
function silencedNote(count: number): string {
  return count > 0 ? `; ${count} more refused without a reply since the last entry` : '';
}
