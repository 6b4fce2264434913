import type { CommandResult } from '../core/result.ts';
import { parsePathState, pathStateCommand, type PathState, type PathStateOptions } from '../facts/path-state.ts';
import { sh } from '../shell/sh.ts';
import { change, fail, type FailPlan, type Operation, type PathEffect, type Plan } from './operation.ts';
import { isFail, probeFailed } from './kit.ts';
import { applyEffects } from './predict.ts';

/**
 * An operation on one path reads the path-state fact (facts/path-state.ts) in its
 * probe and plans from it; a probe that did not run or cannot be read fails the step.
 */

/** Read the probe of a path-state op: undefined probe / failed probe -> FailPlan. */
export function readPathProbe(kind: string, id: string, probe: CommandResult | undefined): PathState | FailPlan {
  if (!probe) return fail(`${kind} '${id}': no probe result`);
  if (probe.exitCode !== 0) return probeFailed(kind, id, probe);
  try {
    return parsePathState(probe.stdout);
  } catch (err) {
    return fail(`${kind} '${id}': ${(err as Error).message}`);
  }
}

/**
 * An operation on one path (file, directory, symlink, ...): probe it with pathStateCommand,
 * read the state (an unreadable probe fails the step), then plan from the state.
 */
export function pathOperation(
  kind: string,
  id: string,
  path: string,
  opts: { notify?: readonly string[] | undefined; probe?: PathStateOptions },
  /** Plans from the path's state, read from the host or predicted from an earlier step. */
  plan: (state: PathState) => Plan,
): Operation {
  const planned = (state: PathState): Plan => removeStaleTemp(path, state, plan(state));
  return {
    kind,
    id,
    ...(opts.notify ? { notify: opts.notify } : {}),
    paths: [path],
    probe: () => pathStateCommand(path, opts.probe),
    plan(probe: CommandResult | undefined): Plan {
      const state = readPathProbe(kind, id, probe);
      return isFail(state) ? state : planned(state);
    },
    planFrom(probe: CommandResult | undefined, effects: readonly PathEffect[]): Plan {
      // a whole state predicted by an earlier step needs nothing of this step's probe
      const whole = effects.some((e) => e.kind === 'state');
      const read = whole ? { type: 'absent' as const } : readPathProbe(kind, id, probe);
      return isFail(read) ? read : planned(applyEffects(read, effects));
    },
  };
}

/**
 * A temp file an interrupted write left next to the path (`<path>.cairn-tmp`) is
 * removed by the next run and named in its report: on its own when nothing else is to
 * be done, else after the step's commands (a write renames its own temp file first).
 */
export function removeStaleTemp(path: string, state: PathState, plan: Plan): Plan {
  if (!state.staleTemp || plan.kind === 'fail' || plan.kind === 'warn') return plan;
  const tmp = `${path}.cairn-tmp`;
  const rm = sh`rm -f ${tmp}`;
  if (plan.kind === 'noop') return change(`remove ${tmp}, left by an interrupted write (${plan.reason})`, [rm]);
  return { ...plan, reason: `${plan.reason}; remove ${tmp}, left by an interrupted write`, commands: [...plan.commands, rm] };
}
