import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SshConfigLookup, SshConfigValues, StrictHostKeyChecking } from './ssh-config.ts';

/**
 * OpenSSH's own answer for a host: `ssh -G [-F file] [-p port] [-l user] -- name`
 * prints the effective client configuration (Match blocks, Include, system
 * config, defaults: everything OpenSSH would use) as lower-case `key value`
 * lines. cairn uses it whenever the `ssh` client is installed, instead of its own
 * reader (ssh-config.ts).
 *
 * `ssh -G` also prints defaults, and cannot say which value the config set; a
 * value equal to what `ssh -G -F /dev/null` prints (OpenSSH's defaults) is
 * taken as not set, so cairn's own defaults and the inventory keep their place.
 */

/** `ssh -G` output: key -> its values, one per line it appeared on (identityfile repeats). */
export type SshGOutput = Map<string, string[]>;

/** Parse `ssh -G` output (`key value...` per line; the key is lower case). */
export function parseSshG(text: string): SshGOutput {
  const out: SshGOutput = new Map();
  for (const line of text.split(/\r?\n/)) {
    const m = /^(\S+)(?:\s+(.*))?$/.exec(line.trim());
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const list = out.get(key) ?? [];
    list.push((m[2] ?? '').trim());
    out.set(key, list);
  }
  return out;
}

const STRICT: Record<string, StrictHostKeyChecking> = { true: 'yes', yes: 'yes', false: 'no', no: 'no', 'accept-new': 'accept-new', ask: 'ask' };

/**
 * The values cairn uses from `ssh -G` output, against OpenSSH's defaults
 * (`baseline`, the output for the same name with -F /dev/null). `origin` names
 * the source in messages.
 */
export function sshGValues(g: SshGOutput, baseline: SshGOutput, origin: string): SshConfigValues {
  const out: SshConfigValues = { identityFiles: [], certificateFiles: [], origins: {}, notes: [] };
  const one = (k: string): string | undefined => g.get(k)?.[0];
  const changed = (k: string): string | undefined => {
    const v = one(k);
    return v !== undefined && v !== baseline.get(k)?.[0] ? v : undefined;
  };
  const set = <K extends keyof SshConfigValues>(key: K, value: SshConfigValues[K] | undefined): void => {
    if (value === undefined) return;
    out[key] = value;
    out.origins[key] = origin;
  };
  set('hostname', changed('hostname'));
  const port = changed('port');
  if (port !== undefined) set('port', Number(port));
  set('user', changed('user'));
  // OpenSSH adds its default key files only when none is configured
  const ids = g.get('identityfile') ?? [];
  if (ids.join('\n') !== (baseline.get('identityfile') ?? []).join('\n')) {
    for (const f of ids) {
      out.identityFiles.push(f);
      out.origins[`identityFile:${f}`] = origin;
    }
  }
  for (const f of g.get('certificatefile') ?? []) {
    out.certificateFiles.push(f);
    out.origins[`certificateFile:${f}`] = origin;
  }
  // ssh -G prints neither for ProxyCommand none / ProxyJump none
  set('proxyCommand', one('proxycommand'));
  set('proxyJump', one('proxyjump'));
  const known = changed('userknownhostsfile');
  if (known !== undefined) set('userKnownHostsFiles', known.split(/\s+/).filter((f) => f !== ''));
  const strict = changed('stricthostkeychecking');
  if (strict !== undefined) set('strictHostKeyChecking', STRICT[strict.toLowerCase()]);
  const timeout = one('connecttimeout');
  if (timeout !== undefined && timeout !== 'none' && Number(timeout) > 0) set('connectTimeoutSec', Number(timeout));
  if (one('identitiesonly') !== undefined) set('identitiesOnly', one('identitiesonly') === 'yes');
  set('identityAgent', one('identityagent'));
  if (one('hashknownhosts') !== undefined) set('hashKnownHosts', one('hashknownhosts') === 'yes');
  return out;
}

/** The `ssh` client on PATH, or undefined (cached per PATH). */
let found: { pathVar: string | undefined; ssh: string | undefined } | undefined;
export function findOpenSsh(pathVar: string | undefined = process.env.PATH): string | undefined {
  if (found && found.pathVar === pathVar) return found.ssh;
  let ssh: string | undefined;
  for (const dir of (pathVar ?? '').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, 'ssh');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) {
        ssh = p;
        break;
      }
    } catch {
      /* not here */
    }
  }
  found = { pathVar, ssh };
  return ssh;
}

/** The argv after `ssh` for `-G`. */
export function sshGArgs(alias: string, given: { port?: number; user?: string }, file: string | undefined): string[] {
  return ['-G', ...(file !== undefined ? ['-F', file] : []), ...(given.port !== undefined ? ['-p', String(given.port)] : []), ...(given.user !== undefined ? ['-l', given.user] : []), '--', alias];
}

function runSshG(ssh: string, args: string[]): string {
  try {
    return execFileSync(ssh, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (err) {
    const e = err as Error & { status?: number | null; stderr?: string };
    const stderr = (e.stderr ?? '').split(/\r?\n/).map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '' && !/^Pseudo-terminal will not be allocated/.test(l));
    const how = e.status != null ? `exit ${e.status}` : e.message;
    throw new Error(
      `OpenSSH refused the ssh settings: ${ssh} ${args.join(' ')} failed (${how})${stderr.length ? `: ${stderr.join('; ')}` : ''}. ` +
        'OpenSSH would not connect either: fix what it names (the ssh config file, or the host name, port or user in the inventory).',
      { cause: err },
    );
  }
}

/** OpenSSH's defaults per ssh binary: the same for every name but `host`/`hostname` (the name, lower-cased). */
const baselines = new Map<string, SshGOutput>();

function baselineFor(ssh: string, alias: string): SshGOutput {
  let base = baselines.get(ssh);
  if (!base) {
    base = parseSshG(runSshG(ssh, sshGArgs('cairn-defaults', {}, '/dev/null')));
    baselines.set(ssh, base);
  }
  return new Map([...base, ['host', [alias]], ['hostname', [alias.toLowerCase()]]]);
}

/**
 * A lookup that asks OpenSSH. `file`: the config (-F); undefined: what plain
 * `ssh` reads (~/.ssh/config, then /etc/ssh/ssh_config). Each call runs
 * `ssh -G` (a few milliseconds); OpenSSH's defaults are asked once per ssh binary.
 */
export function openSshLookup(ssh: string, file: string | undefined): SshConfigLookup {
  const origin = `ssh -G${file !== undefined ? ` -F ${file}` : ''}`;
  return (alias, given) => {
    const g = parseSshG(runSshG(ssh, sshGArgs(alias, given, file)));
    return sshGValues(g, baselineFor(ssh, alias), origin);
  };
}
