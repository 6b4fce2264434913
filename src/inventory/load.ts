import { readFailure } from './read-failure.ts';
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { InvalidInputError, type InputProblem } from '../core/errors.ts';
import { detectFormat } from './ansible/detect.ts';
import { loadAnsibleInventory } from './ansible/load-ansible.ts';
import { buildInventory } from './build.ts';
import { crossCheck } from './cross-check.ts';
import { yamlLocator } from './locator.ts';
import { sortProblems } from './problems.ts';
import { withFormatHint } from './format-hint.ts';
import { InventorySchema } from './schema.ts';
import { schemaProblems } from './schema-problems.ts';
import type { Inventory } from './types.ts';
import { yamlProblems } from './yaml-problems.ts';
import { YamlSource } from './yaml-source.ts';
import { secretTags } from './yaml-tags.ts';

export interface LoadInventoryOptions {
  /** Role names that exist; when given, a group naming another role is a problem. */
  knownRoles?: ReadonlySet<string>;
  /** Environment for `!secret_env` (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** YAML problems that leave the document unreliable: further checks would only add noise. */
const NON_SYNTAX_CODES = new Set(['DUPLICATE_KEY', 'TAG_RESOLVE_FAILED']);

/**
 * Read, validate and build an inventory: cairn's YAML, or an Ansible INI or
 * YAML inventory (detected by content, see ansible/detect.ts; it also reads
 * host_vars/, group_vars/ and a cairn overlay beside it). Synchronous and pure:
 * reads files (and `!secret_env` variables), touches no network and no host.
 * Throws InvalidInputError with every problem found.
 */
export function loadInventory(file: string, opts: LoadInventoryOptions = {}): Inventory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = readFailure(err);
    throw new InvalidInputError([
      { location: { file }, message: `cannot read the inventory: ${reason}`, fix: 'pass the path of an inventory file with -i: cairn YAML, or an Ansible INI or YAML inventory (its host_vars/ and group_vars/ are read from beside it)' },
    ]);
  }
  const format = detectFormat(text, file);
  if (format !== 'cairn') return loadAnsibleInventory(file, text, format, opts).inventory;
  return parseInventoryText(text, file, opts);
}

/**
 * Validate and build an inventory from YAML text. `file` names the source in
 * problems and is the base for relative paths. Throws InvalidInputError.
 */
export function parseInventoryText(text: string, file: string, opts: LoadInventoryOptions = {}): Inventory {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    customTags: secretTags(opts.env),
    merge: true,
    uniqueKeys: true,
  });
  const source = new YamlSource(doc, lineCounter, file);
  const yamlIssues = [...doc.errors, ...doc.warnings];
  const problems: InputProblem[] = yamlProblems(source, text, yamlIssues);
  if (yamlIssues.some((e) => !NON_SYNTAX_CODES.has(e.code))) throw new InvalidInputError(sortProblems(problems));

  if (doc.contents === null) {
    throw new InvalidInputError([
      {
        location: { file, line: 1, column: 1 },
        message: 'the inventory is empty',
        fix: 'describe your hosts, e.g.\n  hosts:\n    web1: { address: 10.0.0.5, user: root }',
      },
    ]);
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    throw new InvalidInputError([{ location: source.ofNode(undefined), message: `cannot read the YAML: ${(err as Error).message}`, fix: 'use fewer aliases (*name)' }]);
  }
  const parsed = InventorySchema.safeParse(data);
  if (!parsed.success) problems.push(...schemaProblems(parsed.error.issues, data, source));
  problems.push(...crossCheck(data, source, opts));
  if (problems.length > 0 || !parsed.success) throw new InvalidInputError(sortProblems(withFormatHint(problems, data)));
  return buildInventory(parsed.data, yamlLocator(source), file);
}
