import { spawn } from 'node:child_process';
import { Command } from 'commander';
import { ExitCode, UsageError } from '../core/errors.ts';
import { SshConnector } from '../connectors/ssh/connector.ts';
import { findOpenSsh } from '../connectors/ssh-g.ts';
import { selectRun } from '../engine/prepare.ts';
import { didYouMean } from '../inventory/suggest.ts';
import { openSshArgs, showCommand } from './openssh-args.ts';
import type { Io } from './main.ts';

interface SshFlags {
  inventory: string;
  verbose?: boolean;
  acceptNewHostKeys?: boolean;
}

/** Run ssh with the terminal (stdin, stdout, stderr inherited); its exit code. */
function runInteractive(ssh: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(ssh, args, { stdio: 'inherit' });
    child.on('error', (err) => reject(new Error(`cannot run ${ssh}: ${err.message}`, { cause: err })));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + 1 : 255)));
  });
}

/**
 * `cairn ssh HOST`: an interactive shell on an inventory host, by the system
 * `ssh` client with every value cairn resolved for the host passed explicitly
 * (openssh-args.ts): jump hosts, ProxyCommand, keys, known_hosts. The exit code
 * is ssh's (255: ssh itself failed).
 */
export function addSshCommand(program: Command, io: Io, setCode: (code: number) => void): void {
  program
    .command('ssh')
    .description("an interactive shell on an inventory host through the system ssh, reached as cairn reaches it (jump hosts, ProxyCommand, keys, known_hosts); exit code is ssh's")
    .argument('<host>', 'an inventory host name')
    .requiredOption('-i, --inventory <file>', 'inventory file: cairn YAML, or an Ansible INI/YAML inventory')
    .option('-v, --verbose', 'print the ssh command line first (on stderr)')
    .option('--accept-new-host-keys', 'trust an unknown SSH host key on first use and record it')
    .action(async (name: string, flags: SshFlags) => {
      const { inventory } = await selectRun({ inventory: flags.inventory });
      const host = inventory.hosts.get(name);
      if (!host) {
        const hint = didYouMean(name, inventory.hosts.keys());
        throw new UsageError(`cairn ssh: no host '${name}' in ${inventory.file}${hint ? ` (${hint})` : ''}; cairn ssh takes one host name, not a pattern`);
      }
      if (host.connection !== 'ssh') throw new UsageError(`cairn ssh: host '${name}' uses connection: ${host.connection}, not ssh`);
      const ssh = findOpenSsh();
      if (!ssh) throw new UsageError('cairn ssh runs the OpenSSH client, and ssh is not on PATH: install it (Debian: apt-get install openssh-client; Alpine: apk add openssh-client)');
      let target;
      try {
        target = new SshConnector(host, inventory.connection).target;
      } catch (err) {
        io.err(`cairn: ${(err as Error).message}`);
        return setCode(ExitCode.failed);
      }
      const args = openSshArgs(target, { acceptNewHostKeys: !!flags.acceptNewHostKeys, connectTimeoutMs: inventory.connection.connectTimeoutMs });
      if (flags.verbose) io.err(showCommand(ssh, args));
      setCode(await runInteractive(ssh, args));
    });
}
