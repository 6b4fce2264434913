import { UsageError } from '../core/errors.ts';
import { globMatch, hasWildcard } from '../core/glob.ts';
import { didYouMean, listChoices } from './suggest.ts';
import type { HostSpec, Inventory } from './types.ts';

/**
 * Hosts selected by an Ansible-like pattern, in inventory order. Terms are
 * separated by ',' or ':'; a term is a host name, a group name, `all`, or a
 * glob (`*`, `?`, case-sensitive) over both. `!term` excludes, `&term` intersects; the plain
 * terms are united first (all hosts when there is none). No pattern = all.
 * Throws UsageError when a term matches nothing or nothing is selected,
 * listing the available names.
 */
export function selectHosts(inv: Inventory, pattern?: string): HostSpec[] {
  const all = [...inv.hosts.keys()];
  if (pattern === undefined || pattern.trim() === '') return [...inv.hosts.values()];
  const terms = pattern
    .split(/[,:]/)
    .map((t) => t.trim())
    .filter(Boolean);
  const unknown: string[] = [];
  const resolveTerm = (term: string): Set<string> => {
    const hosts = matchTerm(inv, term);
    if (hosts.size === 0) unknown.push(term);
    return hosts;
  };

  const include = new Set<string>();
  const intersections: Set<string>[] = [];
  const exclusions: Set<string>[] = [];
  for (const term of terms) {
    if (term.startsWith('!')) exclusions.push(resolveTerm(term.slice(1)));
    else if (term.startsWith('&')) intersections.push(resolveTerm(term.slice(1)));
    else for (const h of resolveTerm(term)) include.add(h);
  }
  if (unknown.length > 0) throw new UsageError(noMatchMessage(inv, pattern, unknown));

  const hasPlain = terms.some((t) => !t.startsWith('!') && !t.startsWith('&'));
  const selected = all.filter(
    (h) => (!hasPlain || include.has(h)) && intersections.every((s) => s.has(h)) && !exclusions.some((s) => s.has(h)),
  );
  if (selected.length === 0) {
    throw new UsageError(`--limit '${pattern}' selects no host: its exclusions and intersections remove every match\n  fix: ${available(inv)}`);
  }
  return selected.map((h) => inv.hosts.get(h)!);
}

/** Host names a single term (without ! or &) stands for. */
function matchTerm(inv: Inventory, term: string): Set<string> {
  if (term === 'all') return new Set(inv.hosts.keys());
  const out = new Set<string>();
  const matches = (name: string) => globMatch(name, term);
  for (const name of inv.hosts.keys()) if (matches(name)) out.add(name);
  for (const group of inv.groups.values()) {
    if (!matches(group.name)) continue;
    for (const h of group.hosts) out.add(h);
  }
  return out;
}

function noMatchMessage(inv: Inventory, pattern: string, unknown: string[]): string {
  const names = [...inv.hosts.keys(), ...inv.groups.keys(), 'all'];
  const lines = unknown.map((t) => {
    const hint = hasWildcard(t) ? undefined : didYouMean(t, names);
    return `--limit '${pattern}': '${t}' matches no host or group${hint ? ` (${hint})` : ''}`;
  });
  return `${lines.join('\n')}\n  fix: ${available(inv)}`;
}

function available(inv: Inventory): string {
  const groups = [...inv.groups.keys()];
  return `use names from the inventory: hosts ${listChoices(inv.hosts.keys(), 30)}; groups ${groups.length ? listChoices(groups, 30) : '(none)'}; or all`;
}
