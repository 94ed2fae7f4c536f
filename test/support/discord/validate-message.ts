/**
 * Discord's message limits as the stand-in enforces them, written independently of
 * src/chat/discord/render.ts so a renderer bug shows up as a 50035 like it would in production.
 */

/** One error in Discord's nested `errors` shape, flattened to a path for readability. */
export interface FormError {
  path: string;
  code: string;
  message: string;
}

// Numbers from Discord's API reference (message, embed and component limits).
const CONTENT_MAX = 2000;
const EMBEDS_MAX = 10;
const EMBED_TITLE_MAX = 256;
const EMBED_DESCRIPTION_MAX = 4096;
const EMBED_FIELDS_MAX = 25;
const EMBED_FIELD_NAME_MAX = 256;
const EMBED_FIELD_VALUE_MAX = 1024;
const EMBED_FOOTER_MAX = 2048;
const EMBED_AUTHOR_MAX = 256;
const EMBED_TOTAL_MAX = 6000;
const ACTION_ROWS_MAX = 5;
const BUTTONS_PER_ROW_MAX = 5;
const CUSTOM_ID_MAX = 100;
const BUTTON_LABEL_MAX = 80;

interface RawEmbed {
  title?: string;
  description?: string;
  fields?: Array<{ name?: string; value?: string }>;
  footer?: { text?: string };
  author?: { name?: string };
}

interface RawComponent {
  type?: number;
  custom_id?: string;
  label?: string;
  url?: string;
  style?: number;
  components?: RawComponent[];
}

/** Check a message body (create, edit, interaction response data); returns the errors Discord would list. */
export function validateMessage(body: Record<string, unknown>): FormError[] {
  const errors: FormError[] = [];
  const tooLong = (path: string, value: unknown, max: number): void => {
    if (typeof value === 'string' && value.length > max) {
      errors.push({ path, code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${max} or fewer in length.` });
    }
  };
  tooLong('content', body.content, CONTENT_MAX);

  const embeds = (body.embeds ?? []) as RawEmbed[];
  if (embeds.length > EMBEDS_MAX) {
    errors.push({ path: 'embeds', code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${EMBEDS_MAX} or fewer in length.` });
  }
  let total = 0;
  embeds.forEach((e, i) => {
    tooLong(`embeds.${i}.title`, e.title, EMBED_TITLE_MAX);
    tooLong(`embeds.${i}.description`, e.description, EMBED_DESCRIPTION_MAX);
    tooLong(`embeds.${i}.footer.text`, e.footer?.text, EMBED_FOOTER_MAX);
    tooLong(`embeds.${i}.author.name`, e.author?.name, EMBED_AUTHOR_MAX);
    const fields = e.fields ?? [];
    if (fields.length > EMBED_FIELDS_MAX) {
      errors.push({ path: `embeds.${i}.fields`, code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${EMBED_FIELDS_MAX} or fewer in length.` });
    }
    fields.forEach((f, j) => {
      if (!f.name) errors.push({ path: `embeds.${i}.fields.${j}.name`, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
      if (!f.value) errors.push({ path: `embeds.${i}.fields.${j}.value`, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
      tooLong(`embeds.${i}.fields.${j}.name`, f.name, EMBED_FIELD_NAME_MAX);
      tooLong(`embeds.${i}.fields.${j}.value`, f.value, EMBED_FIELD_VALUE_MAX);
      total += (f.name?.length ?? 0) + (f.value?.length ?? 0);
    });
    total += (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.footer?.text?.length ?? 0) + (e.author?.name?.length ?? 0);
  });
  if (total > EMBED_TOTAL_MAX) {
    errors.push({ path: 'embeds', code: 'MAX_EMBED_SIZE_EXCEEDED', message: `Embed size exceeds maximum size of ${EMBED_TOTAL_MAX}` });
  }

  const rows = (body.components ?? []) as RawComponent[];
  if (rows.length > ACTION_ROWS_MAX) {
    errors.push({ path: 'components', code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${ACTION_ROWS_MAX} or fewer in length.` });
  }
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    if (row.type !== 1) errors.push({ path: `components.${i}.type`, code: 'UNION_TYPE_CHOICES', message: 'Value of field "type" must be one of (1,).' });
    const inner = row.components ?? [];
    if (inner.length === 0 || inner.length > BUTTONS_PER_ROW_MAX) {
      errors.push({ path: `components.${i}.components`, code: 'BASE_TYPE_BAD_LENGTH', message: `Must be between 1 and ${BUTTONS_PER_ROW_MAX} in length.` });
    }
    inner.forEach((c, j) => {
      const path = `components.${i}.components.${j}`;
      if (c.type !== 2) return;
      tooLong(`${path}.label`, c.label, BUTTON_LABEL_MAX);
      if (c.style === 5) return; // link buttons carry a url, not a custom_id
      if (!c.custom_id) {
        errors.push({ path: `${path}.custom_id`, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
        return;
      }
      tooLong(`${path}.custom_id`, c.custom_id, CUSTOM_ID_MAX);
      if (seen.has(c.custom_id)) {
        errors.push({ path: `${path}.custom_id`, code: 'COMPONENT_CUSTOM_ID_DUPLICATED', message: 'Component custom id cannot be duplicated' });
      }
      seen.add(c.custom_id);
    });
  });
  return errors;
}

/** Nest flat errors the way Discord's 50035 body does: `{ embeds: { 0: { description: { _errors: [...] } } } }`. */
export function nestErrors(errors: FormError[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const e of errors) {
    let node = root;
    for (const part of e.path.split('.')) {
      node = (node[part] ??= {}) as Record<string, unknown>;
    }
    ((node._errors ??= []) as unknown[]).push({ code: e.code, message: e.message });
  }
  return root;
}
