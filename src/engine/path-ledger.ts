import type { PathEffect } from '../operations/operation.ts';

/** One planned change's effect on a path, with the step that plans it and when. */
export interface LedgerEntry {
  readonly effect: PathEffect;
  /** `role/id` of the step. */
  readonly by: string;
  readonly at: number;
}

/**
 * Steps of one run that build on each other: what each planned change leaves at
 * paths (ChangePlan.effects), and when each step's probe was taken. A step reading
 * a path that an entry newer than its probe changes plans from that entry (or is
 * probed again, when the entry cannot be predicted).
 */
export class PathLedger {
  #clock = 0;
  readonly #entries: LedgerEntry[] = [];
  readonly #probedAt = new WeakMap<object, number>();

  /** The step was just probed: entries so far are in what it read. */
  probed(step: object): void {
    this.#probedAt.set(step, ++this.#clock);
  }

  record(by: string, effects: readonly PathEffect[]): void {
    for (const effect of effects) this.#entries.push({ effect, by, at: ++this.#clock });
  }

  /** Entries newer than the step's probe on any of `paths`, oldest first. */
  since(step: object, paths: readonly string[]): LedgerEntry[] {
    if (paths.length === 0) return [];
    const after = this.#probedAt.get(step) ?? 0;
    return this.#entries.filter((e) => e.at > after && paths.some((p) => covers(e.effect, p)));
  }

  /** Must this step be probed again (an entry it cannot build on)? */
  needsProbe(step: object, paths: readonly string[], canBuild: boolean): boolean {
    const es = this.since(step, paths);
    return es.length > 0 && (!canBuild || es.some((e) => e.effect.kind === 'unknown'));
  }

  /** Every entry, oldest first (for the combined diffs of a run). */
  all(): readonly LedgerEntry[] {
    return this.#entries;
  }
}

/** Does the effect reach `path` (the path itself, or below it for a tree effect)? */
export function covers(effect: PathEffect, path: string): boolean {
  if (effect.path === path) return true;
  const tree = effect.kind !== 'attributes' && effect.tree === true;
  return tree && path.startsWith(effect.path === '/' ? '/' : `${effect.path}/`);
}
