import { UsageError } from '../core/errors.ts';
import { didYouMean, listChoices } from '../inventory/suggest.ts';

/** `--roles` names that no role folder provides: a usage error (exit 64) naming the closest role. */
export function checkCliRoles(names: readonly string[], known: ReadonlySet<string>): void {
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length === 0) return;
  const lines = unknown.map((n) => {
    const hint = didYouMean(n, known);
    return `--roles: unknown role '${n}'${hint ? ` (${hint})` : ''}`;
  });
  throw new UsageError(`${lines.join('\n')}\n  known roles are ${listChoices([...known].sort())}; a project role lives in roles/<name>/ beside the inventory`);
}

/** A selected host's roles with the `--roles` ones added after them (each role once, first place kept). */
export function withCliRoles(roles: readonly string[], cli: readonly string[]): string[] {
  return [...new Set([...roles, ...cli])];
}
