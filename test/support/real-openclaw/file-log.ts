/**
 * Reads OpenClaw's JSON-lines file log (/tmp/openclaw/openclaw-YYYY-MM-DD.log) from a byte offset,
 * so a test sees only lines written after it started although the file is shared by every run.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { waitUntil } from './net-util.js';

/** One parsed line of the tslog JSON file log. */
export interface LogEntry {
  time: string;
  level: string;
  /** e.g. "gateway/ws", "gateway", "reload"; "" when the line has none. */
  subsystem: string;
  /** The human text ("unauthorized conn=… reason=token_mismatch …"), without the "[ws]" prefix. */
  text: string;
  /** Structured fields of the line ("1" when it is an object: authReason, client, mode, cause...). */
  fields: Record<string, unknown>;
  /** The raw JSON line, for fixtures. */
  raw: string;
}

/** The default file log path for today (local date), as 2026.9.6 uses it for the default profile. */
export function defaultLogPath(now = new Date()): string {
  const y = now.getFullYear();
  const m = String(now.getMonth() + 1).padStart(2, '0');
  const d = String(now.getDate()).padStart(2, '0');
  return `/tmp/openclaw/openclaw-${y}-${m}-${d}.log`;
}

/** Parse one JSON line; undefined for anything that is not a tslog record. */
export function parseLogLine(raw: string): LogEntry | undefined {
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const meta = (obj._meta ?? {}) as { logLevelName?: string };
  let subsystem = '';
  const head = obj['0'];
  if (typeof head === 'string' && head.startsWith('{')) {
    try {
      subsystem = String((JSON.parse(head) as { subsystem?: string }).subsystem ?? '');
    } catch {
      /* not a bindings object */
    }
  }
  // The text is in `message` for plain lines; structured lines put an object in "1" and the text in "2".
  let text = typeof obj.message === 'string' ? obj.message : '';
  if (!text) {
    for (const k of ['1', '2', '3']) if (typeof obj[k] === 'string') text = obj[k] as string;
  }
  const f = obj['1'];
  const fields = f && typeof f === 'object' && !Array.isArray(f) ? (f as Record<string, unknown>) : {};
  return { time: String(obj.time ?? ''), level: meta.logLevelName ?? '', subsystem, text, fields, raw };
}

/**
 * A cursor over the file log that starts at the file's current end.
 * Why: the log is one file per day shared by every gateway and CLI of this user.
 */
export class FileLogCursor {
  private constructor(
    readonly path: string,
    private readonly startOffset: number,
  ) {}

  /** Start reading `path` (default: today's default log) from its current end. */
  static fromNow(path = defaultLogPath()): FileLogCursor {
    const size = existsSync(path) ? statSync(path).size : 0;
    return new FileLogCursor(path, size);
  }

  /** Every parsed line written since the cursor was created. */
  entries(): LogEntry[] {
    if (!existsSync(this.path)) return [];
    const buf = readFileSync(this.path);
    const text = buf.subarray(Math.min(this.startOffset, buf.length)).toString('utf8');
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(parseLogLine)
      .filter((e): e is LogEntry => e !== undefined);
  }

  /** Lines whose text matches `re` (and optional subsystem). */
  grep(re: RegExp, subsystem?: string): LogEntry[] {
    return this.entries().filter((e) => re.test(e.text) && (subsystem === undefined || e.subsystem === subsystem));
  }

  /** Wait until at least `count` lines match `re`; returns them. */
  async waitFor(re: RegExp, count = 1, timeoutMs = 30_000): Promise<LogEntry[]> {
    return waitUntil(
      `${count} file-log line(s) matching ${re} in ${this.path}`,
      () => {
        const hits = this.grep(re);
        return hits.length >= count ? hits : undefined;
      },
      timeoutMs,
    );
  }
}
