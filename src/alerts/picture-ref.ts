/**
 * Picture references: what a queued message says about its picture (host, incident, hours). Light on
 * purpose: senders import this, never the renderer (resvg's native module loads only where pictures are made).
 */
import type { PictureRef } from '../domain/types.js';
import { MONITOR_DEFAULTS } from '../constants.js';
import type { Incident } from '../domain/incident.js';

/** Picture reference for the recent hours of `host` (up to `at`, else when it is made), shading `incidentId`'s window when given. */
export function hostPicture(host: string, incidentId?: string, at?: number): PictureRef {
  return { kind: 'host-hours', host, hours: MONITOR_DEFAULTS.pictureHours, ...(incidentId ? { incidentId } : {}), ...(at !== undefined ? { at } : {}) };
}

/** The window an incident shades: from when it fired (or its first event) to when it resolved (open: now). */
export function incidentWindow(inc: Pick<Incident, 'firedAt' | 'firstEventAt' | 'resolvedAt' | 'phase'>): { from: number; to?: number } {
  return { from: inc.firedAt ?? inc.firstEventAt, ...(inc.phase === 'resolved' && inc.resolvedAt !== undefined ? { to: inc.resolvedAt } : {}) };
}
