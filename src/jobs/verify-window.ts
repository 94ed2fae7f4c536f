/**
 * The verify window of a fix, shared by the fix worker and the real-host benchmark: fresh diagnoses
 * until verification holds or the plan's window (the ceiling) ends.
 */
import { VERIFY } from '../constants.js';
import type { Verdict } from '../domain/diagnosis.js';
import type { HostConfig } from '../domain/host.js';
import { verifyHolds } from '../openclaw/plan.js';
import type { HostOps } from '../domain/host-ops.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The verify window: a fresh diagnose (only what happened since the fix started counts: old 4008s
 * and OOM lines stay in the log) every VERIFY.pollSec, ending as soon as verification holds
 * (verifyHolds) and at the latest after `ceilingMs`, whose diagnose decides. A diagnose that fails
 * inside the window (the host busy restarting) is tried again at the next poll; at the end it throws.
 */
export async function verifyWindow(
  ops: HostOps,
  host: HostConfig,
  before: Verdict,
  ceilingMs: number,
  fixStarted: number,
): Promise<{ after: Verdict; check: ReturnType<HostOps['verify']> }> {
  const stepsEnded = Date.now();
  const quiet = { clientMs: VERIFY.quietClientSec * 1000, otherMs: VERIFY.quietSec * 1000 };
  for (;;) {
    const left = ceilingMs - (Date.now() - stepsEnded);
    await sleep(Math.max(0, Math.min(VERIFY.pollSec * 1000, left)));
    const last = Date.now() - stepsEnded >= ceilingMs;
    let after: Verdict;
    try {
      after = await ops.diagnose(host, { since: new Date(fixStarted) });
    } catch (err) {
      if (last) throw err;
      continue;
    }
    const check = ops.verify(before, after);
    if (last || verifyHolds(before, after, check, Date.now() - stepsEnded, quiet)) return { after, check };
  }
}
