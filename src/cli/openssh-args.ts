import type { ResolvedSshTarget, SshTarget } from '../connectors/ssh-config.ts';
import { quote } from '../shell/quote.ts';

/**
 * The OpenSSH command line that reaches a host exactly the way cairn does:
 * every value cairn resolved (inventory, ssh_config, defaults) is passed
 * explicitly with `-F none`, so ssh reads no config and cannot disagree.
 *
 * Jump hosts become nested ProxyCommands (`ssh <hop options> -W host:port hop`)
 * rather than -J: ssh's -J sub-process would get neither the hop's keys nor
 * its known_hosts under -F none. ssh expands % in ProxyCommand once per level,
 * so values are written out literally and every % doubled per level.
 */
export interface OpenSshArgsOptions {
  /** --accept-new-host-keys: StrictHostKeyChecking accept-new. */
  acceptNewHostKeys?: boolean;
  /** The inventory's connect timeout, when the hop has none of its own. */
  connectTimeoutMs?: number;
}

const escapePercent = (s: string): string => s.replace(/%/g, '%%');

function hopOptions(t: SshTarget, o: OpenSshArgsOptions): string[] {
  const args = ['-F', 'none', '-o', `HostName=${t.hostname}`, '-p', String(t.port), '-l', t.user];
  for (const f of t.identityFiles) args.push('-i', f);
  if (t.identitiesOnly) args.push('-o', 'IdentitiesOnly=yes');
  if (t.identityAgent !== undefined) args.push('-o', `IdentityAgent=${t.identityAgent}`);
  args.push('-o', `UserKnownHostsFile=${t.knownHostsFiles.length ? t.knownHostsFiles.map((f) => (/\s/.test(f) ? `"${f}"` : f)).join(' ') : 'none'}`);
  args.push('-o', 'GlobalKnownHostsFile=none');
  const strict = o.acceptNewHostKeys || t.strictHostKeyChecking === 'no' ? 'accept-new' : t.strictHostKeyChecking === 'ask' ? 'yes' : t.strictHostKeyChecking;
  args.push('-o', `StrictHostKeyChecking=${strict}`);
  if (t.hashKnownHosts) args.push('-o', 'HashKnownHosts=yes');
  const timeout = t.connectTimeoutMs ?? o.connectTimeoutMs;
  if (timeout) args.push('-o', `ConnectTimeout=${Math.max(1, Math.round(timeout / 1000))}`);
  return args;
}

/** A shell command line of argv (ProxyCommand runs under sh -c). */
const commandLine = (argv: readonly string[]): string => argv.map(quote).join(' ');

/** argv after `ssh` for an interactive login to the resolved target. */
export function openSshArgs(target: ResolvedSshTarget, o: OpenSshArgsOptions = {}): string[] {
  const hops: SshTarget[] = [...target.jumps, target];
  // how to reach hop i: its ProxyCommand (first hop only) or an ssh -W through hop i-1
  let proxy: string | undefined = hops[0]!.proxyCommand;
  for (let i = 1; i < hops.length; i++) {
    const via = hops[i - 1]!;
    const next = hops[i]!;
    const argv = ['ssh', ...hopOptions(via, o), ...(proxy !== undefined ? ['-o', `ProxyCommand=${escapePercent(proxy)}`] : []), '-W', `${next.hostname}:${next.port}`, via.alias];
    proxy = commandLine(argv);
  }
  return [...hopOptions(target, o), ...(proxy !== undefined ? ['-o', `ProxyCommand=${escapePercent(proxy)}`] : []), target.alias];
}

/** `ssh ...` as a line to show (-v): every word quoted for a POSIX shell. */
export function showCommand(ssh: string, args: readonly string[]): string {
  return commandLine([ssh, ...args]);
}
