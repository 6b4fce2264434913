import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../../core/errors.ts';
import { cairnYaml } from './cairn-yaml.ts';
import { detectFormat } from './detect.ts';
import { loadAnsibleInventory, type AnsibleLoadOptions } from './load-ansible.ts';

/**
 * The cairn inventory YAML of an Ansible inventory (with its vars directories
 * and overlay), for writing to `out` (relative paths are made relative to its
 * directory; default: the inventory's own). Throws InvalidInputError or UsageError.
 */
export function convertInventory(file: string, out: string | undefined, opts: AnsibleLoadOptions = {}): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the inventory ${file}: ${(err as Error).message}`);
  }
  const format = detectFormat(text, file);
  if (format === 'cairn') throw new UsageError(`${file} is not an Ansible inventory (it reads as cairn's own format): there is nothing to convert`);
  const loaded = loadAnsibleInventory(file, text, format, opts);
  return cairnYaml(loaded.raw, {
    from: file,
    ...(loaded.overlay ? { overlay: loaded.overlay } : {}),
    outDir: resolve(out ? dirname(out) : dirname(file)),
    locator: loaded.locator,
  });
}
