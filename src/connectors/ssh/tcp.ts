import * as net from 'node:net';
import type { SshTarget } from '../ssh-config.ts';
import { errCode, hopLabel } from './hop.ts';
import { watchLink, type Link } from './link.ts';

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Open a TCP connection with its own timeout, so the error says which part
 * failed. The socket keeps an error listener for its whole life (see link.ts).
 */
export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<Link> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(Object.assign(new Error(`connect timeout after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    const link = watchLink(sock);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.setNoDelay(true);
      sock.setKeepAlive(true, 30_000);
      resolve(link);
    });
    link.ended.onEnd((err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Why a TCP connection to a hop failed, and what to check. */
export function tcpErrorReason(err: unknown, t: SshTarget, timeoutMs: number): string {
  const where = hopLabel(t);
  switch (errCode(err)) {
    case 'ECONNREFUSED':
      return `connection refused by ${where}: nothing listens there (is sshd running, is the port right?)`;
    case 'ETIMEDOUT':
      return `no answer from ${where} within ${Math.round(timeoutMs / 100) / 10} s (is the host up, the address right, a firewall in the way?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the host name "${t.hostname}" (check the address in the inventory or HostName in the ssh config)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${where} (${errCode(err)}: check the address and the network)`;
    default:
      return `cannot connect to ${where}: ${(err as Error).message}`;
  }
}
