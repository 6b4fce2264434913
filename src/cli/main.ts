import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { prepareRun, selectRun } from '../engine/prepare.ts';
import { bakeFinalRoles } from '../bake/auto-role.ts';
import { executeRun, collectFacts } from '../engine/run.ts';
import { ExitCode, InvalidInputError, UsageError } from '../core/errors.ts';
import { mask, maskDeep } from '../core/secret.ts';
import { parseExtraVars } from '../inventory/vars.ts';
import { addInventoryCommand } from './inventory-command.ts';
import { parseRolesFlag, ROLES_FLAG_HELP } from './roles-flag.ts';
import { plainReporter } from '../report/plain.ts';
import { listrReporter } from '../report/listr.ts';
import { recapTable } from '../report/recap.ts';
import { jsonReport } from '../report/json.ts';
import type { HostSummary, RunEvent } from '../engine/events.ts';

const positiveInt = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} takes a whole number >= 1, got '${v}'`);
  return n;
};
const collect = (v: string, prev: string[] = []) => [...prev, v];

interface RunFlags {
  inventory: string;
  limit?: string;
  tags?: string[];
  forks: number;
  serial?: number;
  diff?: boolean;
  json?: boolean;
  extraVars?: string[];
  acceptNewHostKeys?: boolean;
  bake?: boolean;
  connection?: 'ssh' | 'local' | 'chroot';
  root?: string;
  verbose?: boolean;
  roles?: string[];
}

function addRunOptions(cmd: Command): Command {
  return cmd
    .requiredOption('-i, --inventory <file>', 'inventory file: cairn YAML, or an Ansible INI/YAML inventory')
    .option('-l, --limit <pattern>', 'only these hosts/groups (a,b  !x  &y  web*)')
    .option('-t, --tags <tags>', 'only these roles or steps (role or role/step), comma separated', (v) => v.split(',').filter(Boolean))
    .option('-f, --forks <n>', 'hosts worked on at once', positiveInt('--forks'), 10)
    .option('--serial <n>', 'rolling batches of n hosts', positiveInt('--serial'))
    .option('-D, --diff', 'show diffs of changed files')
    .option('--json', 'print one JSON document on stdout')
    .option('-e, --extra-vars <key=value>', 'extra variable (highest precedence), repeatable', collect)
    .option('--accept-new-host-keys', 'trust unknown SSH host keys on first use and record them')
    .option('--bake', 'image-bake mode: enable services without starting them, leave no host identity')
    .addOption(new Option('-c, --connection <kind>', 'reach every selected host this way').choices(['ssh', 'local', 'chroot']))
    .option('--root <dir>', 'root filesystem for --connection chroot')
    .option('-v, --verbose', 'also print steps that were already in the wanted state')
    .option('--roles <roles>', ROLES_FLAG_HELP, parseRolesFlag);
}

async function runCommand(mode: 'apply' | 'check', flags: RunFlags, io: Io): Promise<number> {
  if (flags.connection === 'chroot' && !flags.root) throw new UsageError('--connection chroot needs --root <dir> (the mounted root filesystem)');
  if (flags.root && flags.connection !== 'chroot') throw new UsageError('--root is only used with --connection chroot');
  const extraVars = parseExtraVars(flags.extraVars ?? []);
  const prepared = await prepareRun({
    inventory: flags.inventory,
    ...(flags.limit ? { limit: flags.limit } : {}),
    extraVars,
    bake: !!flags.bake,
    finalRoles: bakeFinalRoles(!!flags.bake),
    ...(flags.roles ? { roles: flags.roles } : {}),
    ...(flags.connection ? { connection: { kind: flags.connection, ...(flags.root ? { root: flags.root } : {}) } } : {}),
  });
  let emit: (e: RunEvent) => void;
  let finish = async () => {};
  if (flags.json) emit = () => undefined;
  else if (io.isTTY) {
    const l = listrReporter(prepared.jobs.map((j) => ({ host: j.host.name, roles: j.roles.map((r) => r.def.name) })), !!flags.diff);
    emit = l.onEvent;
    finish = async () => void (await l.done());
  } else emit = plainReporter({ diff: !!flags.diff, write: io.out, ...(flags.verbose ? { verbose: true } : {}) });
  const hosts = await executeRun(prepared, {
    mode,
    bake: !!flags.bake,
    ...(flags.tags ? { tags: flags.tags } : {}),
    forks: flags.forks,
    ...(flags.serial ? { serial: flags.serial } : {}),
    acceptNewHostKeys: !!flags.acceptNewHostKeys,
    emit,
  });
  await finish();
  if (flags.json) io.out(jsonReport(mode, hosts));
  else {
    if (io.isTTY && flags.diff) for (const [h, s] of Object.entries(hosts)) for (const op of s.ops) if (op.diff) io.out(mask(`[${h}] ${op.role}/${op.id}\n${op.diff}`));
    // a file several steps changed: one diff of the whole result
    if (flags.diff) for (const [h, s] of Object.entries(hosts)) for (const f of s.files ?? []) io.out(mask(`[${h}] ${f.path}: all changes (${f.steps.join(', ')})\n${f.diff}`));
    io.out(mask(recapTable(hosts)));
  }
  return exitCodeFor(mode, hosts);
}

export function exitCodeFor(mode: 'apply' | 'check', hosts: Record<string, HostSummary>): number {
  const all = Object.values(hosts);
  if (all.some((h) => h.unreachable || h.failed > 0)) return ExitCode.failed;
  if (mode === 'check' && all.some((h) => h.changed > 0)) return ExitCode.drift;
  return ExitCode.ok;
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
}

/** Run the CLI; returns the exit code (never calls process.exit). */
export async function main(argv: string[], io: Io): Promise<number> {
  const program = new Command('cairn')
    .description('Agentless SSH provisioner: ordered roles, applied idempotently, for Alpine and Raspberry Pi OS fleets')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });
  let code: number = ExitCode.ok;
  addRunOptions(program.command('apply').description('bring hosts to the wanted state')).action(async (flags: RunFlags) => {
    code = await runCommand('apply', flags, io);
  });
  addRunOptions(program.command('check').description('dry run: report drift (exit 2), change nothing')).action(async (flags: RunFlags) => {
    code = await runCommand('check', flags, io);
  });
  addInventoryCommand(program, io);
  program
    .command('facts')
    .description('print the facts of each host as JSON')
    .requiredOption('-i, --inventory <file>', 'inventory YAML file')
    .option('-l, --limit <pattern>', 'only these hosts/groups')
    .option('-f, --forks <n>', 'hosts at once', positiveInt('--forks'), 10)
    .option('--accept-new-host-keys', 'trust unknown SSH host keys on first use and record them')
    .action(async (flags: { inventory: string; limit?: string; forks: number; acceptNewHostKeys?: boolean }) => {
      // the inventory only: a role that does not load must not block looking at hosts
      const selected = await selectRun({ inventory: flags.inventory, ...(flags.limit ? { limit: flags.limit } : {}) });
      const facts = await collectFacts(selected, { forks: flags.forks, acceptNewHostKeys: !!flags.acceptNewHostKeys });
      io.out(JSON.stringify(maskDeep(facts), null, 2));
      code = Object.values(facts).some((f) => f.unreachable) ? ExitCode.failed : ExitCode.ok;
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.ok;
      return ExitCode.usage;
    }
    if (err instanceof InvalidInputError) {
      io.err(`cairn: invalid input (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}); nothing was changed:\n${err.message}`);
      return ExitCode.invalid;
    }
    if (err instanceof UsageError) {
      io.err(`cairn: ${err.message}`);
      return ExitCode.usage;
    }
    io.err(`cairn: ${mask((err as Error).stack ?? String(err))}`);
    return ExitCode.failed;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.env.CAIRN_CLI_MAIN === '1') {
  const code = await main(process.argv.slice(2), {
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
    isTTY: !!process.stdout.isTTY && !process.env.CI,
  });
  process.exitCode = code;
}
