import * as fs from 'node:fs';
import * as path from 'node:path';
import { reportConfigNotes } from '../config-notes.ts';
import { directiveLocations, loadSshConfig, type SshConfig, type SshConfigLookup } from '../ssh-config.ts';
import { findOpenSsh, openSshLookup } from '../ssh-g.ts';
import type { SshConnectorOptions } from './options.ts';

/**
 * Which source answers ssh_config questions for a connector:
 *
 * 1. a parsed config given by the caller (opts.sshConfig, tests): cairn's reader;
 * 2. else, when the OpenSSH client is installed: `ssh -G` (Match, Include,
 *    system config: exactly what `ssh` would use). The inventory's
 *    connection.ssh_config is passed as -F (OpenSSH then reads only that file);
 *    without one, plain `ssh` rules apply (~/.ssh/config, /etc/ssh/ssh_config);
 * 3. else cairn's own reader of connection.ssh_config or ~/.ssh/config, and what
 *    it did not honour is printed once per run.
 *
 * The inventory still wins over either source for what it sets (port, user,
 * identity, proxy_jump/proxy_command, known_hosts, connect_timeout).
 */
export function sshConfigSource(file: string | undefined, opts: SshConnectorOptions): SshConfig | SshConfigLookup {
  if (opts.sshConfig) return opts.sshConfig;
  const home = opts.home;
  const ssh = opts.openssh === null ? undefined : (opts.openssh ?? findOpenSsh());
  if (ssh) {
    let f = file;
    // a test home: its config, not the real user's
    if (f === undefined && home) f = fs.existsSync(path.join(home, '.ssh', 'config')) ? path.join(home, '.ssh', 'config') : '/dev/null';
    return withCertificateLines(openSshLookup(ssh, f), f, home);
  }
  const loaded = loadSshConfig(file, home ? { home } : {});
  reportConfigNotes(loaded.notes, 'the OpenSSH client (ssh) is not installed');
  return loaded;
}

/** ssh -G says that CertificateFile applies, not where: name the lines of the file. */
function withCertificateLines(lookup: SshConfigLookup, file: string | undefined, home: string | undefined): SshConfigLookup {
  return (alias, given) => {
    const v = lookup(alias, given);
    if (v.certificateFiles.length === 0) return v;
    const lines = directiveLocations(loadSshConfig(file, home ? { home } : {}), 'certificatefile');
    for (const f of v.certificateFiles) {
      const key = `certificateFile:${f}`;
      v.origins[key] = `${v.origins[key] ?? 'ssh -G'}${lines.length ? `; CertificateFile at ${lines.join(', ')}` : ''}`;
    }
    return v;
  };
}
