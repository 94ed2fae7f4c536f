/**
 * Typed errors. Each message is something a chat user can read and act on, and never contains
 * a secret (tokens, keys, tokenized URLs). Like grammY's GrammyError (error_code, description,
 * method), each class also carries its context as fields (host, phase, reason, ...), so code that
 * handles an error reads a field instead of parsing the message.
 */

/** Base class: carries a short code for audit/metrics and a message safe for chat. */
export class ClawmedicError extends Error {
  constructor(
    message: string,
    /** Stable machine-readable code, e.g. "HOST_KEY_MISMATCH". */
    readonly code: string,
    /** May a job hitting this error be retried (connection refused, timeout)? */
    readonly transient = false,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** clawmedic.yaml or env is malformed: names the file, the key path and what was expected. */
export class ConfigError extends ClawmedicError {
  constructor(message: string) {
    super(message, 'CONFIG');
  }
}

/** The host presented a key that does not match the pinned fingerprint. Never retried. */
export class HostKeyMismatchError extends ClawmedicError {
  constructor(
    readonly host: string,
    /** The pinned SHA256 fingerprint (or "(no pinned fingerprint)"). */
    readonly expected: string,
    /** The fingerprint the host presented. */
    readonly received: string,
  ) {
    super(
      `${host}: host key mismatch: expected ${expected}, received ${received}. ` +
        `Refusing to connect. If the host was reinstalled, pin the new key with "clawmedic hosts fingerprint".`,
      'HOST_KEY_MISMATCH',
    );
  }
}

/** Connect/ready/command deadline passed. Transient. */
export class SshTimeoutError extends ClawmedicError {
  constructor(
    readonly host: string,
    /** Which deadline: the connection (readyTimeout), opening a channel, or the command itself. */
    readonly phase: 'connect' | 'channel' | 'command',
    readonly timeoutMs: number,
  ) {
    super(`${host}: SSH ${phase} timed out after ${Math.round(timeoutMs / 1000)} s`, 'SSH_TIMEOUT', true);
  }
}

/** TCP refused/reset/unreachable. Transient. */
export class HostUnreachableError extends ClawmedicError {
  constructor(
    readonly host: string,
    /** Redacted: an error code (ECONNREFUSED) or a short description. */
    readonly reason: string,
  ) {
    super(`${host}: host unreachable over SSH (${reason})`, 'HOST_UNREACHABLE', true);
  }
}

/** The host's sshd and clawmedic share no algorithm (it offers only SHA-1 ones). Not transient: config or host must change. */
export class SshAlgorithmError extends ClawmedicError {
  constructor(
    readonly host: string,
    /** ssh2's handshake failure, redacted. */
    readonly detail: string,
    /** The inventory allows the SHA-1 algorithms for this host (ssh.legacyAlgorithms). */
    readonly legacyAllowed: boolean,
  ) {
    super(
      legacyAllowed
        ? `${host}: SSH handshake failed (${detail})`
        : `${host}: SSH handshake failed (${detail}): the host's sshd offers only SHA-1 algorithms, which clawmedic refuses. ` +
            'Upgrade its sshd, or set ssh.legacyAlgorithms: true for this host in the inventory.',
      'SSH_ALGORITHM',
    );
  }
}

/** The host refused our key. Not transient: config must change. */
export class SshAuthError extends ClawmedicError {
  constructor(
    readonly host: string,
    readonly user: string,
  ) {
    super(`${host}: SSH authentication refused for user "${user}" (check the key and authorized_keys)`, 'SSH_AUTH');
  }
}

/** A queued job names a host that is no longer in the inventory (removed while the job waited). Not retried. */
export class HostNotInInventoryError extends ClawmedicError {
  constructor(readonly host: string) {
    super(`host "${host}" is no longer in the inventory`, 'UNKNOWN_HOST');
  }
}

/**
 * Thrown by an adapter's deliver() when the target can never be reached (bot blocked, chat gone, missing
 * permission): the notify worker logs it once and does not retry it.
 */
export class PermanentDeliveryError extends ClawmedicError {
  constructor(
    message: string,
    /** The chat or channel that refuses us, when the adapter knows it. */
    readonly chatId?: string,
  ) {
    super(message, 'PERMANENT_DELIVERY');
  }
}
