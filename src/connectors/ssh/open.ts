import type { Client } from 'ssh2';
import { UnreachableError } from '../../core/errors.ts';
import type { ResolvedSshTarget, SshTarget } from '../ssh-config.ts';
import { watchConnection, type Connection } from './connection.ts';
import { handshake, type HandshakeOptions } from './handshake.ts';
import { hopLabel } from './hop.ts';
import { forwardTo } from './jump.ts';
import type { Link } from './link.ts';
import type { SshStats } from './options.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS, tcpConnect, tcpErrorReason } from './tcp.ts';

export interface OpenOptions extends Omit<HandshakeOptions, 'prefix' | 'connectTimeoutMs'> {
  /** The inventory's connect timeout (a hop's ConnectTimeout wins). */
  connectTimeoutMs: number | undefined;
  /** Counted: TCP connections and handshakes. */
  stats: SshStats;
}

/**
 * sshd drops unauthenticated connections at random once MaxStartups is reached
 * (many forks at once, or other clients): such an early close is tried again, up
 * to 3 times with a jittered pause. Nothing else is retried.
 */
export async function openWithRetry(target: ResolvedSshTarget, o: OpenOptions): Promise<Connection> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openConnection(target, o);
    } catch (err) {
      const early = err instanceof UnreachableError && /closed the connection before the SSH handshake finished/.test(err.message);
      if (!early || attempt >= 4) throw err;
      await new Promise((r) => setTimeout(r, 300 * attempt + Math.random() * 700));
    }
  }
}

/** TCP to the first hop, then a handshake with each hop through the one before (ProxyJump). */
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
      if (!via) {
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
        clients.push(await handshake(hop, link, { ...o, prefix, connectTimeoutMs: connectTimeout }));
        o.stats.handshakes++;
      } catch (err) {
        link.sock.destroy();
        throw err;
      }
    }
  } catch (err) {
    for (const c of clients.reverse()) c.destroy();
    throw err;
  }
  return watchConnection(clients);
}
