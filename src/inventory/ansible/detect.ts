import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isPlainMap } from '../plain-map.ts';

export type InventoryFormat = 'cairn' | 'ansible-yaml' | 'ansible-ini';

const SECTION = /^\s*\[[^\]]+\]\s*(?:[#;].*)?$/m;
const GROUP_KEYS = ['hosts', 'children', 'vars'];

/**
 * Which format an inventory file is written in, by its content:
 * - INI: a `.ini` file, or text that is no YAML map (`[section]` lines, bare host lines);
 * - Ansible YAML: a map with `all:`, or without `hosts:` whose entries are groups
 *   (maps with `hosts:` or `children:`);
 * - cairn: everything else (a file that is neither gets cairn's problems, with a hint).
 */
export function detectFormat(text: string, file: string): InventoryFormat {
  if (extname(file).toLowerCase() === '.ini') return 'ansible-ini';
  let data: unknown;
  try {
    data = parseYaml(text, { logLevel: 'silent', uniqueKeys: false });
  } catch {
    return SECTION.test(text) ? 'ansible-ini' : 'cairn';
  }
  if (data === null || data === undefined) return 'cairn';
  if (!isPlainMap(data)) return typeof data === 'string' || SECTION.test(text) ? 'ansible-ini' : 'cairn';
  if ('all' in data && !('hosts' in data)) return 'ansible-yaml';
  if ('hosts' in data) return 'cairn';
  const looksLikeGroup = (v: unknown) => isPlainMap(v) && Object.keys(v).some((k) => k === 'hosts' || k === 'children') && Object.keys(v).every((k) => GROUP_KEYS.includes(k));
  return Object.values(data).some(looksLikeGroup) ? 'ansible-yaml' : 'cairn';
}
