/**
 * What clawmedic offers in the SSH handshake (issue 12.9). ssh2's defaults still include SHA-1:
 * the `ssh-rsa` host-key signature, `hmac-sha1` MACs and SHA-1 key exchanges. A bastion holding
 * production keys should not accept them. A host whose sshd offers nothing better (very old
 * OpenSSH, some appliances) must be named in the inventory with `ssh.legacyAlgorithms: true`.
 */
import type { Algorithms } from 'ssh2';

const SHA1_HOST_KEYS = ['ssh-rsa'];
const SHA1_MACS = ['hmac-sha1', 'hmac-sha1-etm@openssh.com'];
const SHA1_KEX = ['diffie-hellman-group14-sha1', 'diffie-hellman-group-exchange-sha1', 'diffie-hellman-group1-sha1'];

/** ssh2 `algorithms` for a host: SHA-1 removed unless the inventory allows legacy algorithms for it. */
export function algorithmsFor(legacyAllowed: boolean): Algorithms | undefined {
  if (legacyAllowed) return undefined; // ssh2's own defaults
  return {
    serverHostKey: { remove: SHA1_HOST_KEYS },
    hmac: { remove: SHA1_MACS },
    kex: { remove: SHA1_KEX },
  } as Algorithms;
}

/** ssh2's handshake error when nothing in common was offered: "Handshake failed: no matching host key format". */
export function isNoCommonAlgorithm(message: string): boolean {
  return /no matching/i.test(message);
}
