import type { InputProblem } from '../core/errors.ts';
import { isPlainMap } from './plain-map.ts';

/** What cairn can read, for a file that looks like none of it. */
export const FORMATS_HINT =
  "cairn reads two formats: its own YAML (hosts: map + groups:, see docs/inventory.md) and Ansible inventories (YAML with all: / children: / hosts:, or INI with [group] sections, see \"Ansible inventories\" in docs/inventory.md)";

/**
 * When a cairn inventory has no `hosts:` map it may well be meant as another
 * format: the first problem about the top level says which formats cairn reads.
 */
export function withFormatHint(problems: InputProblem[], data: unknown): InputProblem[] {
  if (isPlainMap(data) && isPlainMap(data['hosts'])) return problems;
  let hinted = false;
  const out = problems.map((p) => {
    if (hinted || !/in the inventory$|^the inventory has no 'hosts:'|^the inventory must be/.test(p.message)) return p;
    hinted = true;
    return { ...p, fix: `${p.fix ? `${p.fix}\n  ` : ''}${FORMATS_HINT}` };
  });
  if (hinted || out.length === 0) return out;
  const [first, ...rest] = out;
  return [{ ...first!, fix: `${first!.fix ? `${first!.fix}\n  ` : ''}${FORMATS_HINT}` }, ...rest];
}
