import type { ShellCommand } from '../../shell/sh.ts';

export type Supervisor = 'openrc' | 's6' | 'systemd';

/** What a service step wants. */
export interface ServiceWant {
  readonly enabled: boolean;
  readonly state: 'started' | 'stopped';
}

/** A driver's verdict: what to run (and why), or why it cannot be done. */
export type Outcome =
  | { readonly fail: string }
  | {
      /** Commands in order; empty when nothing is needed. */
      readonly cmds: readonly ShellCommand[];
      /** Short words for what the commands do, e.g. "enable", "start". */
      readonly what: readonly string[];
      /** What already holds, for the noop reason, e.g. "enabled", "running". */
      readonly done: readonly string[];
      /** The commands start a process that was not running (what a service step's `satisfies` needs). */
      readonly starts?: boolean;
    };

/**
 * One init system / supervisor. `sections` is the probe output split by
 * parseSections. Drivers are pure: the probe is the only read of the host.
 */
export interface ServiceDriver {
  probe(bake: boolean): ShellCommand;
  plan(sections: Map<string, string>, want: ServiceWant, bake: boolean, host: string): Outcome;
  /** Probe for a restart handler (live only). */
  restartProbe(): ShellCommand;
  /** Restart only a running service; a stopped one is left alone. */
  restartPlan(sections: Map<string, string>, host: string): Outcome;
}
