import { Command, CommanderError, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { prepareRun, selectRun } from '../engine/prepare.ts';
import { bakeFinalRoles } from '../bake/auto-role.ts';
import { executeRun, collectFacts } from '../engine/run.ts';
import { ExitCode, InvalidInputError, UsageError } from '../core/errors.ts';
import { mask, maskDeep } from '../core/secret.ts';
import { parseExtraVars } from '../inventory/vars.ts';
import { addInventoryCommand } from './inventory-command.ts';
import { addInitCommand } from './init.ts';
import { addExecCommand } from './exec-command.ts';
import { addSshCommand } from './ssh-command.ts';
import { addEnrollCommand, askFactoryPassword, ENROLL_ROLE } from './enroll-command.ts';
import { firstLogins } from '../engine/first-login.ts';
import type { Connector } from '../connectors/connector.ts';
import { parseRolesFlag, ROLES_FLAG_HELP } from './roles-flag.ts';
import { plainReporter } from '../report/plain.ts';
import { listrReporter } from '../report/listr.ts';
import { recapTable } from '../report/recap.ts';
import { jsonReport } from '../report/json.ts';
import type { HostSummary, RunEvent } from '../engine/events.ts';
import { guardRun } from './guard.ts';
import { RunProgress } from './progress.ts';
import { checkTags, listTags, tagList } from './tags.ts';
import { junitReport } from './junit.ts';
import { openRunLog, type RunLog } from './log.ts';
import { checkOutputFile } from './output-file.ts';
import { parseOnly, pickFacts } from './facts-only.ts';
import { HELP_AFTER } from './help.ts';
import { collect, positiveInt } from './option-values.ts';
import { askPasswords } from './ask-passwords.ts';
import { cairnVersion } from './version.ts';
import type { Facts } from '../facts/types.ts';


interface RunFlags {
  inventory: string;
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  listHosts?: boolean;
  listTags?: boolean;
  junit?: string;
  log?: string;
  forks: number;
  serial?: number;
  diff?: boolean;
  json?: boolean;
  extraVars?: string[];
  acceptNewHostKeys?: boolean;
  allowQuorumLoss?: boolean;
  bake?: boolean;
  connection?: 'ssh' | 'local' | 'chroot';
  root?: string;
  verbose?: boolean;
  roles?: string[];
  askPass?: boolean;
  askBecomePass?: boolean;
  /** `cairn enroll`: exactly the enroll role, the factory login where the key is refused (--ask-pass: its password). */
  enroll?: boolean;
}

function addRunOptions(cmd: Command): Command {
  return cmd
    .requiredOption('-i, --inventory <file>', 'inventory file: cairn YAML, or an Ansible INI/YAML inventory')
    .option('-l, --limit <pattern>', 'only these hosts/groups (a,b  !x  &y  web*)')
    .option('-t, --tags <tags>', 'only these roles or steps (role or role/step), comma separated', tagList('--tags'))
    .option('--skip-tags <tags>', 'not these roles or steps (role or role/step), comma separated', tagList('--skip-tags'))
    .addOption(new Option('--list-hosts', 'print the selected hosts, one a line, and stop (no connection)').conflicts('listTags'))
    .option('--list-tags', 'print the roles and role/step names the selected hosts would run, and stop (no connection)')
    .option('-f, --forks <n>', 'hosts worked on at once', positiveInt('--forks'), 10)
    .option('--serial <n>', 'rolling batches of n hosts', positiveInt('--serial'))
    .option('-D, --diff', 'show diffs of changed files')
    .option('--json', 'print one JSON document on stdout')
    .option('-e, --extra-vars <key=value|@file|{map}>', 'extra vars (highest precedence), repeatable: key=value (text as given), @vars.yml, \'{"k": 1}\'', collect)
    .option('--accept-new-host-keys', 'trust unknown SSH host keys on first use and record them')
    .option('-k, --ask-pass', 'ask once (no echo) for the SSH login password of every host that has none in the inventory')
    .option('-K, --ask-become-pass', 'ask once (no echo) for the sudo password of every host that has no become_password')
    .option('--allow-quorum-loss', 'restart Consul/Nomad servers even when their cluster is degraded (sets consul_ and nomad_allow_quorum_loss)')
    .option('--bake', 'image-bake mode: enable services without starting them, leave no host identity')
    .addOption(new Option('-c, --connection <kind>', 'reach every selected host this way').choices(['ssh', 'local', 'chroot']))
    .option('--root <dir>', 'root filesystem for --connection chroot')
    .option('-v, --verbose', 'also print steps that were already in the wanted state')
    .option('--junit <file>', 'write a JUnit XML report: a testcase per host x step (in check, drift fails)')
    .option('--log <file>', 'append every step\'s line and the recap to this file (secrets masked)')
    .option('--roles <roles>', ROLES_FLAG_HELP, parseRolesFlag);
}

async function runCommand(mode: 'apply' | 'check', flags: RunFlags, io: Io, argv: readonly string[]): Promise<number> {
  if (flags.connection === 'chroot' && !flags.root) throw new UsageError('--connection chroot needs --root <dir> (the mounted root filesystem)');
  if (flags.root && flags.connection !== 'chroot') throw new UsageError('--root is only used with --connection chroot');
  const junitFile = flags.junit ? checkOutputFile('--junit', flags.junit) : undefined;
  const log = flags.log ? openRunLog(flags.log, { argv, diff: !!flags.diff }) : undefined;
  try {
    const code = await runLogged(mode, flags, io, log, junitFile);
    log?.write(`# exit ${code}`);
    return code;
  } catch (err) {
    log?.write(`cairn: ${(err as Error).message}`);
    throw err;
  } finally {
    log?.close();
  }
}

async function runLogged(mode: 'apply' | 'check', flags: RunFlags, io: Io, log: RunLog | undefined, junitFile: string | undefined): Promise<number> {
  const extraVars = {
    ...parseExtraVars(flags.extraVars ?? []),
    // the quorum gate of the consul and nomad roles (docs/roles-nomad-consul.md)
    ...(flags.allowQuorumLoss ? { consul_allow_quorum_loss: true, nomad_allow_quorum_loss: true } : {}),
  };
  if (flags.listHosts) {
    const { hosts } = await selectRun({ inventory: flags.inventory, ...(flags.limit ? { limit: flags.limit } : {}) });
    for (const h of hosts) io.out(h.name);
    return ExitCode.ok;
  }
  const prepared = await prepareRun({
    inventory: flags.inventory,
    ...(flags.limit ? { limit: flags.limit } : {}),
    extraVars,
    bake: !!flags.bake,
    finalRoles: bakeFinalRoles(!!flags.bake),
    ...(flags.roles ? { roles: flags.roles } : {}),
    ...(flags.enroll ? { onlyRoles: [ENROLL_ROLE] } : {}),
    ...(flags.connection ? { connection: { kind: flags.connection, ...(flags.root ? { root: flags.root } : {}) } } : {}),
  });
  const tags = { ...(flags.tags ? { tags: flags.tags } : {}), ...(flags.skipTags ? { skipTags: flags.skipTags } : {}) };
  checkTags(prepared.stepIds, tags);
  if (flags.listTags) {
    for (const t of listTags(prepared.stepIds, tags)) io.out(t);
    return ExitCode.ok;
  }
  const factoryPassword = flags.enroll && flags.askPass ? await askFactoryPassword() : undefined;
  if (!flags.enroll) await askPasswords(flags, prepared.jobs.map((j) => j.host));
  // enroll: the connections its key check logged in with are the run's (one handshake per host)
  const connected = new Map<string, Connector>();
  const firstLogin = flags.enroll
    ? await firstLogins(prepared, { acceptNewHostKeys: !!flags.acceptNewHostKeys, forks: flags.forks, enrollRole: ENROLL_ROLE, connected, ...(factoryPassword ? { askedPassword: factoryPassword } : {}) })
    : undefined;
  let draw: (e: RunEvent) => void;
  let finish = async () => {};
  io.progress?.begin(mode, !!flags.json);
  if (flags.json) draw = () => undefined;
  else if (io.isTTY) {
    const l = listrReporter(prepared.jobs.map((j) => ({ host: j.host.name, roles: j.roles.map((r) => r.def.name) })), !!flags.diff);
    draw = l.onEvent;
    finish = async () => void (await l.done());
  } else draw = plainReporter({ diff: !!flags.diff, write: io.out, ...(flags.verbose ? { verbose: true } : {}) });
  const emit = (e: RunEvent): void => {
    io.progress?.track(e);
    draw(e);
    log?.emit(e);
  };
  const hosts = await executeRun(prepared, {
    mode,
    bake: !!flags.bake,
    ...tags,
    forks: flags.forks,
    ...(flags.serial ? { serial: flags.serial } : {}),
    acceptNewHostKeys: !!flags.acceptNewHostKeys,
    emit,
    ...(firstLogin ? { firstLogin, connected } : {}),
  });
  await finish();
  log?.write(recapTable(hosts));
  if (junitFile) writeFileSync(junitFile, junitReport(mode, hosts));
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
  /** Where the run records what finished (for the recap after an internal error). */
  progress?: RunProgress;
}

/** Run the CLI; returns the exit code (never calls process.exit). */
export async function main(argv: string[], io: Io): Promise<number> {
  const program = new Command('cairn')
    .description('Agentless SSH provisioner: ordered roles, applied idempotently, for Alpine and Raspberry Pi OS fleets')
    .version(cairnVersion(), '-V, --version', 'print the version')
    .addHelpText('after', HELP_AFTER)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });
  let code: number = ExitCode.ok;
  addRunOptions(program.command('apply').description('bring hosts to the wanted state')).action(async (flags: RunFlags) => {
    code = await runCommand('apply', flags, io, argv);
  });
  addRunOptions(program.command('check').description('dry run: report drift (exit 2), change nothing')).action(async (flags: RunFlags) => {
    code = await runCommand('check', flags, io, argv);
  });
  addInventoryCommand(program, io);
  addInitCommand(program, io);
  addExecCommand(program, io, (c) => (code = c));
  addSshCommand(program, io, (c) => (code = c));
  addEnrollCommand(program, async (flags) => {
    code = await runCommand('apply', { ...flags, enroll: true }, io, argv);
  });
  program
    .command('facts')
    .description('print the facts of each host as JSON')
    .requiredOption('-i, --inventory <file>', 'inventory YAML file')
    .option('-l, --limit <pattern>', 'only these hosts/groups')
    .option('-f, --forks <n>', 'hosts at once', positiveInt('--forks'), 10)
    .option('--accept-new-host-keys', 'trust unknown SSH host keys on first use and record them')
    .option('--only <keys>', 'only these top-level facts, comma separated (os,arch,init,kernel,...)', parseOnly)
    .action(async (flags: { inventory: string; limit?: string; forks: number; acceptNewHostKeys?: boolean; only?: (keyof Facts)[] }) => {
      // the inventory only: a role that does not load must not block looking at hosts
      const selected = await selectRun({ inventory: flags.inventory, ...(flags.limit ? { limit: flags.limit } : {}) });
      const facts = await collectFacts(selected, { forks: flags.forks, acceptNewHostKeys: !!flags.acceptNewHostKeys });
      const only = flags.only;
      const shown = only ? Object.fromEntries(Object.entries(facts).map(([h, f]) => [h, f.facts ? { ...f, facts: pickFacts(f.facts, only) } : f])) : facts;
      io.out(JSON.stringify(maskDeep(shown), null, 2));
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

/** The command line: main() under guardRun (an internal error or a run that never settles still exits 1, with what it can say). */
export function cli(argv: string[]): void {
  const out = (s: string): void => void process.stdout.write(`${s}\n`);
  const err = (s: string): void => void process.stderr.write(`${s}\n`);
  const progress = new RunProgress();
  guardRun(main(argv, { out, err, isTTY: !!process.stdout.isTTY && !process.env.CI, progress }), {
    out,
    err,
    recap: () => progress.recap(),
    exit: (code) => process.exit(code),
  });
}

if (import.meta.url === `file://${process.argv[1]}` || process.env.CAIRN_CLI_MAIN === '1') cli(process.argv.slice(2));
