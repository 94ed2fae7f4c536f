/**
 * A host from the inventory (clawmedic.yaml), as the rest of the code sees it after validation.
 * The zod schema in src/config/schema.ts produces exactly this shape.
 */

/** How the OpenClaw gateway on a host is kept running; decides how clawmedic stops/starts it. */
export type Supervisor =
  | { kind: 'systemd-user'; unit: string }
  | { kind: 'docker'; container: string }
  | { kind: 'commands'; start: string; stop: string; status?: string };

export interface HostConfig {
  /** Inventory name, e.g. "prod": [a-z0-9][a-z0-9-_]{0,62}. The only thing a chat user names. */
  name: string;
  ssh: {
    host: string;
    port: number;
    user: string;
    /** Pinned host key, OpenSSH form "SHA256:<base64 without padding>". */
    hostKeyFingerprint: string;
    /** Path to a private key for this host; falls back to the global SSH key from env. */
    privateKeyPath?: string;
    /** SHA-1 SSH algorithms allowed for this host only (an old sshd offering nothing else). */
    legacyAlgorithms?: boolean;
  };
  install: 'native' | 'docker';
  /** Container name for docker installs (`docker exec <container> openclaw ...`). */
  container?: string;
  supervisor: Supervisor;
  openclaw: {
    /** Command or absolute path of the openclaw CLI on the host (nvm installs need a full path). */
    bin: string;
    /** `--profile` to pass, if the install uses one. */
    profile?: string;
    /** OPENCLAW_STATE_DIR, if not ~/.openclaw. */
    stateDir?: string;
  };
  gateway: {
    port: number;
    /** The URL clients use to reach the gateway (what GATEWAY_URL / gateway.remote.url should be). */
    url?: string;
  };
  /** Path on the host of an install's .env that may hold GATEWAY_URL (docker-compose installs). */
  envFile?: string;
  /** May clawmedic stop a foreign process that holds the gateway port? Off by default. */
  allowKillPortOwner: boolean;
  /** Auto-fix on alert for causes with a safe fix (issue 6); off by default. */
  autoFix: boolean;
}
