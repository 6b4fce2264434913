import type { ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import type { Facts } from '../facts/types.ts';
import type { PathState } from '../facts/path-state.ts';
import type { FilePiece } from '../connectors/stdin.ts';

/**
 * Bytes written to a path on the host: in the tar stream of the batch that applies the
 * change (see engine/change-batch.ts), or through the connector's upload for a step
 * that runs on its own. The bytes are a Buffer, or a controller file read as it is sent.
 */
export interface UploadCommand {
  readonly kind: 'upload';
  readonly path: string;
  readonly content: Buffer | FilePiece;
  readonly mode?: number;
  /** Shown in logs instead of the content. */
  readonly description: string;
}

/** A step of a change: a shell command or an upload. */
export type Command = ShellCommand | UploadCommand;

export interface NoopPlan {
  readonly kind: 'noop';
  /** Why nothing is needed, e.g. "/etc/motd already has the wanted content". */
  readonly reason: string;
}

export interface ChangePlan {
  readonly kind: 'change';
  readonly commands: readonly Command[];
  /** Human-readable diff of what will change (masked before display). */
  readonly diff?: string;
  /** Short description of the change, e.g. "create /etc/motd". */
  readonly reason: string;
  /** Warnings to show even when the change succeeds (e.g. "reboot required"). */
  readonly warnings?: readonly string[];
  /**
   * What the change leaves at paths on the host, so later steps of the same run that
   * read those paths plan against it instead of their (now stale) probe. `unknown`
   * when it cannot be predicted on the controller (a command, an unpacked archive):
   * the engine then re-probes, after applying, only the later steps reading it.
   */
  readonly effects?: readonly PathEffect[];
  /**
   * Handlers this change leaves nothing to do: notified earlier in the run (or pending
   * from an earlier one), they are dropped and their notes on the host removed in the
   * same command, after the change. A service started from stopped reads the config the
   * notifying steps wrote, so its restart handler (with its quorum gate and drain) has
   * no process to restart.
   */
  readonly satisfies?: readonly string[];
}

/**
 * What a change leaves at `path`: a whole new state (with `tree`: for everything
 * below it too, e.g. a removed directory), new attributes only (the content stays
 * what the later step's own probe read), or something the controller cannot know.
 */
export type PathEffect =
  | {
      readonly path: string;
      readonly kind: 'state';
      readonly state: PathState;
      readonly tree?: boolean;
      /** The state the change was planned from (for one combined diff of a file several steps edit). */
      readonly from?: PathState;
      /** The content must never be shown. */
      readonly secret?: boolean;
    }
  | { readonly path: string; readonly kind: 'attributes'; readonly attributes: AttributePatch }
  | { readonly path: string; readonly kind: 'unknown'; readonly tree?: boolean };

/** New mode / owner / group of a path. */
export type AttributePatch = Partial<Pick<PathState, 'mode' | 'uid' | 'gid' | 'user' | 'group'>>;

/** The operation cannot be planned: wrong input for this host, failed preflight... */
export interface FailPlan {
  readonly kind: 'fail';
  readonly message: string;
}

/** A warning that does not stop the run (e.g. preflight in warn mode). */
export interface WarnPlan {
  readonly kind: 'warn';
  readonly message: string;
}

export type Plan = NoopPlan | ChangePlan | FailPlan | WarnPlan;

export interface OpContext {
  /** Inventory name of the host. */
  readonly host: string;
  readonly facts: Facts;
  /** Image-bake mode: services enabled but not started, no live checks. */
  readonly bake: boolean;
  /**
   * `check` only: an earlier step of this host would change something that was
   * not applied, so what this step reads (a file an earlier step uploads, a binary
   * it installs) may be missing for that reason: plan a change, do not fail.
   */
  readonly pendingChanges?: boolean;
}

/**
 * A typed operation: reads state with one probe command, then plans.
 * `plan` must be pure: same probe output + facts -> same plan. When nothing is
 * needed it returns noop. "Changed" means: a change plan whose commands all succeeded.
 */
export interface Operation {
  /** Operation type, e.g. 'file', 'package', 'service'. */
  readonly kind: string;
  /** Step id, unique inside its role: gives the stable path `<role>/<id>`. */
  readonly id: string;
  /** Handler names to run once at the end of the role when this op changed. */
  readonly notify?: readonly string[];
  /**
   * True when this op's probe must see the effects of earlier changes of the
   * same run (e.g. checking a binary the previous op installs). The executor
   * applies queued changes and re-probes before planning it.
   */
  readonly barrier?: boolean;
  /**
   * Runs on the controller right after this op's change succeeded (apply mode
   * only; the op is then run on its own, not batched). Throw to mark it failed
   * (e.g. the DNS switch: resolution or a fresh SSH login broke).
   */
  afterChange?(rt: ApplyRuntime): Promise<void>;
  /**
   * Like Ansible's flush_handlers: before this step, apply what is queued and run
   * the handlers notified so far in this role (e.g. wait for a cluster only after
   * a changed config has restarted the agent).
   */
  readonly flushHandlers?: boolean;
  /** One probe command, or undefined when the plan needs no host state. */
  probe(ctx: OpContext): ShellCommand | undefined;
  plan(probe: CommandResult | undefined, ctx: OpContext): Plan;
  /**
   * The paths this step's probe reads. When an earlier step of the run changes one of
   * them, this step is planned with `planFrom` on the state that step leaves (no round
   * trip), or, without planFrom or when that state is unknown, probed again after the
   * earlier changes are applied.
   */
  readonly paths?: readonly string[];
  /**
   * Plan from this step's probe with what earlier steps of the run leave at its paths
   * applied on top (in run order; never `unknown` ones: the engine probes again then).
   */
  planFrom?(probe: CommandResult | undefined, effects: readonly PathEffect[], ctx: OpContext): Plan;
}

/** What an op's afterChange hook may do on the host. */
export interface ApplyRuntime {
  readonly host: string;
  /** Run a command on the existing connection (no become change). */
  run(cmd: ShellCommand, options?: { timeoutMs?: number }): Promise<CommandResult>;
  /** Open a NEW connection to the host (fresh SSH login), run `true`, close it; throws if that fails. */
  freshLogin(): Promise<void>;
  /**
   * Open a NEW connection, run `cmd` on it (as the connection's user and become),
   * close it. A change that may cut the existing connection (the network's
   * configuration) watches the host this way. Throws when the login fails.
   */
  freshRun(cmd: ShellCommand, options?: { timeoutMs?: number }): Promise<CommandResult>;
}

export const noop = (reason: string): NoopPlan => ({ kind: 'noop', reason });
export const change = (reason: string, commands: readonly Command[], diff?: string, warnings?: readonly string[], effects?: readonly PathEffect[]): ChangePlan => ({
  kind: 'change',
  reason,
  commands,
  ...(diff !== undefined ? { diff } : {}),
  ...(warnings !== undefined ? { warnings } : {}),
  ...(effects !== undefined ? { effects } : {}),
});

/** The same plan, leaving these path states (see ChangePlan.effects). */
export function leaving(plan: ChangePlan, ...effects: PathEffect[]): ChangePlan {
  return { ...plan, effects: [...(plan.effects ?? []), ...effects] };
}
export const fail = (message: string): FailPlan => ({ kind: 'fail', message });
export const warn = (message: string): WarnPlan => ({ kind: 'warn', message });
export const upload = (path: string, content: Buffer | FilePiece, description: string, mode?: number): UploadCommand => ({
  kind: 'upload',
  path,
  content,
  description,
  ...(mode !== undefined ? { mode } : {}),
});
