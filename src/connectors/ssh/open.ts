import type { Client } from 'ssh2';
import { UnreachableError } from '../../core/errors.ts';
import type { ResolvedSshTarget, SshTarget } from '../ssh-config.ts';
import { watchConnection, type Connection } from './connection.ts';
import { handshake, HandshakeLostError, type HandshakeOptions } from './handshake.ts';
import { hopLabel } from './hop.ts';
import { forwardTo } from './jump.ts';
import type { Link } from './link.ts';
import { describeExit, proxyEnded, startProxyCommand, type ProxyLink } from './proxy-command.ts';
import type { SshStats } from './options.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS, tcpConnect, tcpErrorReason } from './tcp.ts';

export interface OpenOptions extends Omit<HandshakeOptions, 'prefix' | 'connectTimeoutMs'> {
  /** The inventory's connect timeout (a hop's ConnectTimeout wins). */
  connectTimeoutMs: number | undefined;
  /** Each stderr line of a ProxyCommand. */
  onProxyStderr: (line: string) => void;
  /** Counted: TCP connections and handshakes. */
  stats: SshStats;
}

/**
 * sshd drops unauthenticated connections at random once MaxStartups is reached
 * (many forks at once, or other clients): a connection closed or cut before the
 * handshake finished is tried again, up to 3 times with a jittered pause.
 * Nothing else is retried. When the retries fail too, the error says both: the
 * first loss and what the last try got.
 */
export async function openWithRetry(target: ResolvedSshTarget, o: OpenOptions): Promise<Connection> {
  const MAX_ATTEMPTS = 4;
  let first: HandshakeLostError | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await openConnection(target, o);
    } catch (err) {
      const lost = err instanceof HandshakeLostError;
      if (lost && attempt < MAX_ATTEMPTS) {
        first ??= err;
        await new Promise((r) => setTimeout(r, 300 * attempt + Math.random() * 700));
        continue;
      }
      if (!first) throw err;
      const retries = attempt - 1;
      const last = err instanceof UnreachableError ? err.reason : (err as Error).message;
      const reason = lost && last === first.reason ? `${last} (tried ${attempt} times)` : `${first.reason}; tried again${retries > 1 ? ` ${retries} times, the last try` : ''}: ${last}`;
      throw new UnreachableError(o.host, reason, { cause: err });
    }
  }
}

/**
 * The handshake over a ProxyCommand failed: if the command ended, that is the
 * error (not retried), with its exit and the tail of its stderr.
 */
async function proxyFailure(host: string, prefix: string, t: SshTarget, link: ProxyLink, err: unknown): Promise<unknown> {
  // a handshake cairn ended itself (unknown host key, no accepted key) is its own error:
  // the command exiting after that is the consequence, not the cause
  if (!(err instanceof HandshakeLostError)) return err;
  const exit = await proxyEnded(link, 1000);
  if (!exit) return err;
  const tail = link.stderrTail();
  const origin = t.origins.proxyCommand ? ` (${t.origins.proxyCommand})` : '';
  return new UnreachableError(
    host,
    `${prefix}ProxyCommand ${link.command}${origin} ${describeExit(exit)} before the SSH handshake with ${hopLabel(t)} finished` +
      `${tail.length ? `; its stderr: ${tail.join(' | ')}` : ' (no stderr)'}. Run the command by hand to see why.`,
    { cause: err },
  );
}

/** TCP to the first hop (or its ProxyCommand), then a handshake with each hop through the one before (ProxyJump). */
export async function openConnection(target: ResolvedSshTarget, o: OpenOptions): Promise<Connection> {
  const hops: SshTarget[] = [...target.jumps, target];
  const clients: Client[] = [];
  try {
    let link: Link | undefined;
    for (const [i, hop] of hops.entries()) {
      const via = i > 0 ? hops[i - 1]! : undefined;
      const isJump = i < hops.length - 1;
      const connectTimeout = hop.connectTimeoutMs || o.connectTimeoutMs || DEFAULT_CONNECT_TIMEOUT_MS;
      const prefix = isJump ? `jump host ${hop.user}@${hopLabel(hop)}: ` : '';
      if (!via && hop.proxyCommand) {
        link = startProxyCommand(hop.proxyCommand, o.onProxyStderr);
        o.stats.proxyCommands++;
      } else if (!via) {
        try {
          link = await tcpConnect(hop.hostname, hop.port, connectTimeout);
          o.stats.tcpConnections++;
        } catch (err) {
          throw new UnreachableError(o.host, prefix + tcpErrorReason(err, hop, connectTimeout), { cause: err });
        }
      } else {
        link = await forwardTo(o.host, clients[i - 1]!, via, hop, connectTimeout);
      }
      try {
        clients.push(await handshake(hop, link, { ...o, prefix, connectTimeoutMs: connectTimeout, password: isJump ? undefined : o.password }));
        o.stats.handshakes++;
      } catch (err) {
        const failure = 'exited' in link ? await proxyFailure(o.host, prefix, hop, link as ProxyLink, err) : err;
        link.sock.destroy();
        throw failure;
      }
    }
  } catch (err) {
    for (const c of clients.reverse()) c.destroy();
    throw err;
  }
  return watchConnection(clients);
}
