import type { CommandResult } from '../core/result.ts';
import { sh, joinCommands, isShellCommand, type ShellCommand } from '../shell/sh.ts';
import { parseSections, section, checkId, paramError, paramNames, rejectCoercedSecret, rejectUnknownParams, probeFailed } from './kit.ts';
import { change, fail, noop, type Operation, type Plan } from './operation.ts';
import { checkAbsPath } from './path-params.ts';

export interface CommandParams {
  readonly id: string;
  /** What to run (built with the `sh` tag). */
  readonly run: ShellCommand;
  /** Skip when this path exists on the host (what `run` creates). */
  readonly creates?: string;
  /** Skip when this check exits 0 (it must only read state). */
  readonly unless?: ShellCommand;
  /** No guard: runs on every apply and always reports a change. */
  readonly notIdempotent?: true;
  readonly notify?: readonly string[];
}

const KIND = 'command';
const PARAMS = paramNames<CommandParams>({ id: true, run: true, creates: true, unless: true, notIdempotent: true, notify: true });

/**
 * A free-form command, guarded so a second apply does nothing: `creates` (a path
 * the command makes) and/or `unless` (a read-only check). A command without a
 * guard must say `notIdempotent: true`.
 */
export function command(params: CommandParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  if (!isShellCommand(params.run)) {
    throw paramError(KIND, id, 'run', 'must be a command built with the sh tag', 'write run: sh`...`');
  }
  const run = params.run;
  rejectCoercedSecret(KIND, id, 'run', run.text);
  const creates = params.creates === undefined ? undefined : checkAbsPath(KIND, id, 'creates', params.creates);
  if (params.unless !== undefined && !isShellCommand(params.unless)) {
    throw paramError(KIND, id, 'unless', 'must be a command built with the sh tag', 'write unless: sh`...`');
  }
  const unless = params.unless;
  if (unless !== undefined) rejectCoercedSecret(KIND, id, 'unless', unless.text);
  if (params.notIdempotent !== undefined && params.notIdempotent !== true) {
    throw paramError(KIND, id, 'notIdempotent', 'can only be true', 'write notIdempotent: true or leave it out');
  }
  if (creates === undefined && unless === undefined && params.notIdempotent !== true) {
    throw paramError(
      KIND,
      id,
      'run',
      'has no guard, so it would run on every apply',
      'add creates: <path the command makes>, or unless: sh`<check that exits 0 when done>`, or notIdempotent: true if it really must run every time',
    );
  }

  return {
    kind: KIND,
    id,
    ...(params.notify ? { notify: params.notify } : {}),
    // a `creates` path an earlier step of the run makes (or removes) is looked at again
    ...(creates !== undefined ? { paths: [creates] } : {}),
    probe() {
      if (creates === undefined && unless === undefined) return undefined;
      const parts: ShellCommand[] = [];
      if (creates !== undefined) {
        parts.push(section('creates', sh`if [ -e ${creates} ] || [ -L ${creates} ]; then echo exists; else echo absent; fi`));
      }
      if (unless !== undefined) {
        // the check's stdout is dropped (it must not forge sections); its stderr stays visible
        parts.push(section('unless', sh`( ${unless}
) >/dev/null </dev/null; echo $?`));
      }
      return joinCommands([...parts, sh`exit 0`], '\n');
    },
    plan(probe: CommandResult | undefined): Plan {
      const what = `run ${run.display}`;
      // what the command does to `creates` cannot be known before it ran
      const effects = creates !== undefined ? [{ path: creates, kind: 'unknown', tree: true } as const] : undefined;
      if (creates === undefined && unless === undefined) return change(what, [run]);
      if (!probe) return fail(`${KIND} '${id}': no probe result`);
      if (probe.exitCode !== 0) return probeFailed(KIND, id, probe);
      const sec = parseSections(probe.stdout);
      if (creates !== undefined) {
        const seen = sec.get('creates')?.trim();
        if (seen !== 'exists' && seen !== 'absent') return fail(`${KIND} '${id}': unreadable probe output`);
        if (seen === 'exists') return noop(`${creates} exists`);
      }
      if (unless !== undefined) {
        const code = sec.get('unless')?.trim();
        if (code === undefined || !/^\d+$/.test(code)) return fail(`${KIND} '${id}': unreadable probe output`);
        if (code === '0') return noop(`unless check succeeded: ${unless.display}`);
      }
      return change(what, [run], undefined, undefined, effects);
    },
  };
}
