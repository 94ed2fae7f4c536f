/** Ending a session channel so its remote command dies, and freeing its slot only once it is really gone. */
import type { ClientChannel } from 'ssh2';

/** How long to wait for the server to confirm a channel (or connection) close before going on anyway. */
export const CLOSE_GRACE_MS = 2_000;

/**
 * Make the remote command die: ask sshd to signal the session (refused by some servers, e.g. for
 * root logins), then close the channel, whose stdin EOF makes the wrapper's watchdog kill the group.
 */
export function killChannel(channel: ClientChannel): void {
  try {
    channel.signal('TERM');
  } catch {
    /* channel already closing */
  }
  try {
    channel.close();
  } catch {
    /* already closed */
  }
}

/** Kill the channel; free its slot when the server confirms the close, or after a grace period if it never does. */
export function killAndRelease(channel: ClientChannel, release: () => void): void {
  killChannel(channel);
  const grace = setTimeout(release, CLOSE_GRACE_MS);
  grace.unref?.();
  channel.once('close', () => {
    clearTimeout(grace);
    release();
  });
}
