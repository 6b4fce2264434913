import { InvalidArgumentError } from 'commander';

/**
 * `--roles base,consul`: role names run by every selected host, after the
 * roles its groups give it. Commas separate; blanks around names are dropped.
 */
export function parseRolesFlag(value: string, previous: string[] = []): string[] {
  const names = value.split(',').map((s) => s.trim());
  if (names.some((n) => n === '')) throw new InvalidArgumentError(`--roles takes role names separated by commas, e.g. --roles base,consul; got '${value}'`);
  const bad = names.find((n) => !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(n));
  if (bad !== undefined) throw new InvalidArgumentError(`'${bad}' is not a role name: role names use letters, digits, '_', '.' and '-'`);
  return [...new Set([...previous, ...names])];
}

export const ROLES_FLAG_HELP = 'also run these roles on every selected host, after its groups\' roles (comma separated, repeatable)';
