import type { Client } from 'ssh2';
import { UnreachableError } from '../../core/errors.ts';
import type { SshTarget } from '../ssh-config.ts';
import { hopLabel } from './hop.ts';
import { watchLink, type Link } from './link.ts';

/** A tunnel from `via` to the next hop (ProxyJump), for `host` (the inventory name, for errors). */
export function forwardTo(host: string, client: Client, via: SshTarget, hop: SshTarget, timeoutMs: number): Promise<Link> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new UnreachableError(host, `jump host ${hopLabel(via)} did not open a tunnel to ${hopLabel(hop)} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      client.forwardOut('127.0.0.1', 0, hop.hostname, hop.port, (err, stream) => {
        clearTimeout(timer);
        if (err) {
          const msg = err.message.replace(/^\(SSH\) /, '');
          // RFC 4254 5.1 reason codes: 1 administratively prohibited, 2 connect failed
          const reason = (err as Error & { reason?: number }).reason;
          const hint =
            reason === 1 || /prohibited/i.test(msg)
              ? ` (administratively prohibited: TCP forwarding is probably off on the jump host, set "AllowTcpForwarding yes" in its sshd_config)`
              : reason === 2 || /refused/i.test(msg)
                ? ` (the jump host could not connect to ${hop.hostname}:${hop.port}: is the name resolvable there, does something listen?)`
                : '';
          reject(new UnreachableError(host, `jump host ${hopLabel(via)} could not open a tunnel to ${hopLabel(hop)}: ${msg}${hint}`, { cause: err }));
          return;
        }
        resolve(watchLink(stream));
      });
    } catch (err) {
      clearTimeout(timer);
      reject(new UnreachableError(host, `jump host ${hopLabel(via)} connection lost: ${(err as Error).message}`, { cause: err }));
    }
  });
}
