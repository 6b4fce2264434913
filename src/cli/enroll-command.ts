import { Command } from 'commander';
import { collect, positiveInt } from './option-values.ts';
import { UsageError } from '../core/errors.ts';
import { Secret } from '../core/secret.ts';
import { withOrigin } from '../core/secret-origin.ts';
import { promptSecret } from './prompt-secret.ts';

/** What `cairn enroll` hands to the run (an apply of exactly the enroll role). */
export interface EnrollFlags {
  inventory: string;
  limit?: string;
  forks: number;
  diff?: boolean;
  json?: boolean;
  extraVars?: string[];
  acceptNewHostKeys?: boolean;
  verbose?: boolean;
  log?: string;
  askPass?: boolean;
}

/** The role `cairn enroll` runs. */
export const ENROLL_ROLE = 'enroll';


/**
 * `cairn enroll`: from a board's factory login to the inventory's key login. Runs
 * exactly the enroll role (roles/enroll) on the selected hosts; where the inventory's
 * key is refused, it logs in as enroll_user with enroll_password (or --ask-pass)
 * instead, become by sudo with that password. docs/enroll.md.
 */
export function addEnrollCommand(program: Command, run: (flags: EnrollFlags) => Promise<void>): void {
  program
    .command('enroll')
    .description("take hosts from their factory login (a password) to the inventory's key login: admin user, keys, sudo/doas, hostname, sshd keys only (guarded: the host rolls back unless a new login works)")
    .requiredOption('-i, --inventory <file>', 'inventory file: cairn YAML, or an Ansible INI/YAML inventory')
    .option('-l, --limit <pattern>', 'only these hosts/groups (a,b  !x  &y  web*)')
    .option('-f, --forks <n>', 'hosts worked on at once', positiveInt('--forks'), 10)
    .option('-D, --diff', 'show diffs of changed files')
    .option('--json', 'print one JSON document on stdout')
    .option('-e, --extra-vars <key=value|@file|{map}>', 'extra vars (highest precedence), repeatable', collect)
    .option('--accept-new-host-keys', 'trust unknown SSH host keys on first use and record them (a fresh board has a new key)')
    .option('-v, --verbose', 'also print steps that were already in the wanted state')
    .option('--log <file>', "append every step's line and the recap to this file (secrets masked)")
    .option('-k, --ask-pass', "ask (no echo) for the factory login's password, for hosts without enroll_password")
    .action(async (flags: EnrollFlags) => run(flags));
}

/** --ask-pass of enroll: the factory login's password, asked once with no echo. */
export async function askFactoryPassword(prompt: (q: string) => Promise<string> = promptSecret): Promise<Secret> {
  const text = await prompt('factory login password: ');
  if (text === '') throw new UsageError('--ask-pass: no password was typed (an empty line); run again and type it, or set enroll_password: !secret_env NAME');
  return withOrigin(new Secret(text), 'typed at --ask-pass');
}
