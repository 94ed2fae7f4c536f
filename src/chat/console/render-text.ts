/**
 * Plain-text rendering of a Reply for the console: title, body, fields, evidence (indented), detail, and buttons
 * numbered so the user can press one by typing its number.
 */
import type { Reply } from '../../domain/types.js';
import { evidenceLines } from '../evidence-lines.js';

const TONE_WORD = { info: 'INFO', pending: '....', ok: ' OK ', warn: 'WARN', error: 'FAIL' } as const;

/** Render `reply`; `firstButton` is the number shown for its first button; `picture` is where its picture was written. */
export function renderText(reply: Reply, firstButton = 1, picture?: string): string {
  const out: string[] = [`[${TONE_WORD[reply.tone]}] ${reply.title}`];
  for (const p of reply.body ?? []) out.push(p);
  // The console is the requester's own terminal: a private secret is shown as is.
  if (reply.private && reply.secret) out.push(reply.secret);
  for (const f of reply.fields ?? []) out.push(`  ${f.name}: ${f.value.replace(/\n/g, '\n    ')}`);
  const evidence = evidenceLines(reply.evidence);
  if (evidence.length) out.push(`  ${reply.evidence!.label}:\n${evidence.map((l) => `    ${l}`).join('\n')}`);
  if (reply.detail) out.push(reply.detail.split('\n').map((l) => `  | ${l}`).join('\n'));
  if (reply.buttons?.length) out.push(reply.buttons.map((b, i) => `[${firstButton + i}] ${b.label}`).join('   '));
  if (reply.image) out.push(`  picture: ${picture ?? '(not made)'}`);
  if (reply.footer) out.push(`  (${reply.footer})`);
  return out.join('\n');
}
