/**
 * Random identifiers: opaque button tokens and request ids. Unguessable, URL-safe, short
 * enough for Telegram's 64-byte callback_data.
 */
import { randomBytes } from 'node:crypto';
import { BUTTON_TOKEN_BYTES } from '../constants.js';

/** A fresh opaque token (22 base64url chars). */
export function newToken(): string {
  return randomBytes(BUTTON_TOKEN_BYTES).toString('base64url');
}

/** A short request id for job ids and footers (12 base64url chars). */
export function newRequestId(): string {
  return randomBytes(9).toString('base64url');
}
