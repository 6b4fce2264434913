import type { SshConfig } from '../ssh-config.ts';

export interface SshConnectorOptions {
  /** Record unknown host keys in known_hosts instead of refusing (never accepts a changed key). */
  acceptNewHostKeys?: boolean;
  /** Parsed ssh_config to use instead of reading settings.sshConfig / ~/.ssh/config. */
  sshConfig?: SshConfig;
  /** Channels (commands) open at once on the one connection; default 8 (OpenSSH MaxSessions is 10). */
  maxChannels?: number;
  /** File transfer: SFTP with `cat` fallback (auto, the default), only SFTP, or only `cat`. */
  transfer?: 'auto' | 'sftp' | 'exec';
  /** SSH keepalive interval; default 15 s, the connection is dropped after 4 unanswered. */
  keepaliveIntervalMs?: number;
  /** Home directory for ~ and default files (default os.homedir()). */
  home?: string;
  /** ssh-agent socket (default $SSH_AUTH_SOCK; ssh_config IdentityAgent wins); null: never use an agent. */
  agent?: string | null;
  /** The OpenSSH client asked for the effective ssh_config (`ssh -G`); default: `ssh` on PATH; null: cairn's own reader. */
  openssh?: string | null;
  /** Where a ProxyCommand's stderr lines go (default: cairn's stderr, prefixed with the host, secrets masked). */
  onProxyStderr?: (host: string, line: string) => void;
}

/** Counters, mostly for tests and --verbose output. */
export interface SshStats {
  /** TCP connections opened to the first hop. */
  tcpConnections: number;
  /** ProxyCommands started instead of a TCP connection. */
  proxyCommands: number;
  /** SSH handshakes completed (jump hosts included). */
  handshakes: number;
  /** Commands started. */
  commands: number;
  /** Most channels open at once for commands. */
  peakChannels: number;
  /** Whether the host's SFTP subsystem worked. */
  sftp: 'unknown' | 'available' | 'unavailable';
  /** Host keys recorded because of acceptNewHostKeys. */
  recordedHostKeys: string[];
}

export function emptyStats(): SshStats {
  return { tcpConnections: 0, proxyCommands: 0, handshakes: 0, commands: 0, peakChannels: 0, sftp: 'unknown', recordedHostKeys: [] };
}
