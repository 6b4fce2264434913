import { InvalidArgumentError } from 'commander';
import { UsageError } from '../core/errors.ts';
import { selected } from '../engine/host-run.ts';
import { closest, didYouMean, listChoices } from '../inventory/suggest.ts';

/** Step ids by host, then role (PreparedRun.stepIds). */
export type StepIds = ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;

/** `--tags a,b/c`: names, trimmed; an empty list is a usage error (it would select everything). */
export const tagList = (flag: string) => (v: string, prev: string[] = []): string[] => {
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new InvalidArgumentError(`${flag} takes role or role/step names, comma separated, got '${v}'`);
  return [...prev, ...names];
};

/** The roles of all hosts, each with the union of its step ids, in first-seen order. */
function byRole(steps: StepIds): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const roles of steps.values()) {
    for (const [role, ids] of roles) {
      const set = out.get(role) ?? new Set<string>();
      for (const id of ids) set.add(id);
      out.set(role, set);
    }
  }
  return out;
}

/** Every role and `role/step` the hosts run, each once, a role before its steps. */
export function allTags(steps: StepIds): string[] {
  return listTags(steps, {});
}

/**
 * Every name in --tags / --skip-tags must be a role or step of a selected host:
 * a typo would otherwise select nothing, and `check` report a false "no drift".
 * Throws UsageError naming every unknown one, with a suggestion.
 */
export function checkTags(steps: StepIds, flags: { tags?: readonly string[]; skipTags?: readonly string[] }): void {
  const known = allTags(steps);
  const knownSet = new Set(known);
  const roles = known.filter((t) => !t.includes('/'));
  const lines: string[] = [];
  for (const [flag, names] of [['--tags', flags.tags], ['--skip-tags', flags.skipTags]] as const) {
    for (const name of names ?? []) {
      if (knownSet.has(name)) continue;
      const slash = name.indexOf('/');
      const role = slash < 0 ? name : name.slice(0, slash);
      let what: string;
      let hint: string | undefined;
      if (slash >= 0 && knownSet.has(role)) {
        const ids = known.filter((t) => t.startsWith(`${role}/`));
        const step = name.slice(slash + 1);
        const near = closest(step, ids.map((t) => t.slice(role.length + 1)));
        what = `role '${role}' has no step '${step}'`;
        hint = near !== undefined ? `did you mean '${role}/${near}'?` : `its steps: ${listChoices(ids, 10)}`;
      } else {
        what = `no selected host runs a role${slash >= 0 ? ` '${role}'` : ' or step of that name'}`;
        hint = didYouMean(name, slash >= 0 ? known : roles) ?? (roles.length ? `the roles: ${listChoices(roles, 10)}` : 'the selected hosts run no role');
      }
      lines.push(`${flag} '${name}': ${what}; ${hint}`);
    }
  }
  if (lines.length > 0) {
    throw new UsageError(`${lines.join('\n')}\n  fix: name a role or a role/step (see them with --list-tags; --limit narrows the hosts)`);
  }
}

/** --list-tags: the roles and role/step ids the hosts would run under --tags / --skip-tags. */
export function listTags(steps: StepIds, flags: { tags?: readonly string[]; skipTags?: readonly string[] }): string[] {
  const out: string[] = [];
  for (const [role, ids] of byRole(steps)) {
    const kept = [...ids].filter((id) => selected(flags.tags, role, id, flags.skipTags));
    // a role without steps is listed unless it is filtered out by name
    if (kept.length === 0 && (ids.size > 0 || !selected(flags.tags, role, '', flags.skipTags))) continue;
    out.push(role, ...kept.map((id) => `${role}/${id}`));
  }
  return out;
}
