import type { CommandResult } from '../core/result.ts';
import { parsePathState, pathStateCommand, type PathState, type PathStateOptions } from '../facts/path-state.ts';
import { fail, type FailPlan, type Operation, type PathEffect, type Plan } from './operation.ts';
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
  return {
    kind,
    id,
    ...(opts.notify ? { notify: opts.notify } : {}),
    paths: [path],
    probe: () => pathStateCommand(path, opts.probe),
    plan(probe: CommandResult | undefined): Plan {
      const state = readPathProbe(kind, id, probe);
      return isFail(state) ? state : plan(state);
    },
    planFrom(probe: CommandResult | undefined, effects: readonly PathEffect[]): Plan {
      // a whole state predicted by an earlier step needs nothing of this step's probe
      const whole = effects.some((e) => e.kind === 'state');
      const read = whole ? { type: 'absent' as const } : readPathProbe(kind, id, probe);
      return isFail(read) ? read : plan(applyEffects(read, effects));
    },
  };
}
