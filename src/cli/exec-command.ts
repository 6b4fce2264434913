import { Command } from 'commander';
import { positiveInt } from './option-values.ts';
import { ExitCode, UsageError } from '../core/errors.ts';
import { mask } from '../core/secret.ts';
import { selectRun } from '../engine/prepare.ts';
import { runAdhoc, type AdhocResult } from '../engine/adhoc.ts';
import type { Io } from './main.ts';

interface ExecFlags {
  inventory: string;
  forks: number;
  json?: boolean;
  acceptNewHostKeys?: boolean;
}

/** A host's block of output: a header line, then its stdout and stderr lines, each prefixed with the host. */
export function formatAdhocResult(r: AdhocResult): string[] {
  const secs = `${(r.durationMs / 1000).toFixed(1)}s`;
  if (r.unreachable) return [`${r.host} | UNREACHABLE | ${secs}`, `${r.host} ! ${r.error ?? ''}`];
  const lines = [`${r.host} | ${r.exitCode === 0 ? 'ok' : 'FAILED'} | exit ${r.exitCode} | ${secs}`];
  const body = (text: string, mark: string): void => {
    if (text === '') return;
    for (const l of text.replace(/\n$/, '').split('\n')) lines.push(`${r.host} ${mark} ${l}`);
  };
  body(r.stdout, '>');
  body(r.stderr, '!');
  return lines;
}

/** The last line: how many hosts, and which failed or were unreachable. */
export function adhocRecap(results: readonly AdhocResult[]): string {
  const ok = results.filter((r) => r.exitCode === 0).length;
  const failed = results.filter((r) => !r.unreachable && r.exitCode !== 0);
  const unreachable = results.filter((r) => r.unreachable);
  const list = (rs: readonly AdhocResult[], what: (r: AdhocResult) => string): string => (rs.length ? ` (${rs.map(what).join(', ')})` : '');
  return (
    `exec: ${results.length} host${results.length === 1 ? '' : 's'}: ${ok} ok, ${failed.length} failed${list(failed, (r) => `${r.host} exit ${r.exitCode}`)}, ` +
    `${unreachable.length} unreachable${list(unreachable, (r) => r.host)}`
  );
}

/** 0 only when every host ran the command and it exited 0. */
export function adhocExitCode(results: readonly AdhocResult[]): number {
  return results.every((r) => r.exitCode === 0) ? ExitCode.ok : ExitCode.failed;
}

/** The command words as one text, joined with spaces like ssh does with `ssh host a b`. */
export function commandText(words: readonly string[]): string {
  const text = words.join(' ');
  if (text.trim() === '') throw new UsageError("cairn exec needs a command after the host pattern, e.g. cairn exec -i inventory.yml 'web*' -- uptime");
  if (text.includes('\0')) throw new UsageError('the command cannot contain a NUL byte');
  return text;
}

/** `cairn exec PATTERN -- CMD...`: an ad-hoc command on the selected hosts. */
export function addExecCommand(program: Command, io: Io, setCode: (code: number) => void): void {
  program
    .command('exec')
    .description("run a command on the hosts PATTERN selects (as --limit does), through the login user's shell, with become if the inventory says so")
    .argument('<pattern>', "hosts or groups, as --limit: a,b  !x  &y  web*  all")
    .argument('<command...>', 'the command (after --): its words joined with spaces, run by the remote shell as typed')
    .requiredOption('-i, --inventory <file>', 'inventory file: cairn YAML, or an Ansible INI/YAML inventory')
    .option('-f, --forks <n>', 'hosts at once', positiveInt('--forks'), 10)
    .option('--json', 'print one JSON document on stdout')
    .option('--accept-new-host-keys', 'trust unknown SSH host keys on first use and record them')
    .action(async (pattern: string, words: string[], flags: ExecFlags) => {
      const text = commandText(words);
      const selected = await selectRun({ inventory: flags.inventory, limit: pattern });
      const results = await runAdhoc(selected, text, {
        forks: flags.forks,
        acceptNewHostKeys: !!flags.acceptNewHostKeys,
        ...(flags.json ? {} : { onResult: (r: AdhocResult) => io.out(formatAdhocResult(r).join('\n')) }),
      });
      if (flags.json) {
        const hosts = Object.fromEntries(results.map(({ host, ...r }) => [host, r]));
        io.out(JSON.stringify({ format: 1, command: mask(text), hosts }, null, 2));
      } else io.out(adhocRecap(results));
      setCode(adhocExitCode(results));
    });
}
