import { readFailure } from './read-failure.ts';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { InvalidInputError, type InputProblem } from '../core/errors.ts';
import { describeValue } from './describe-value.ts';
import { isPlainMap } from './plain-map.ts';
import type { Vars } from './types.ts';
import { yamlProblems } from './yaml-problems.ts';
import { YamlSource } from './yaml-source.ts';
import { secretTags } from './yaml-tags.ts';

/**
 * `-e @vars.yml`: a YAML (or JSON) file whose top level is a map of vars, with
 * `!secret` / `!secret_env` tags as in the inventory. Relative paths are from the
 * current directory. Throws InvalidInputError with file:line for every problem.
 */
export function loadVarsFile(path: string, env: NodeJS.ProcessEnv = process.env): Vars {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = readFailure(err);
    throw new InvalidInputError([{ location: { file }, message: `cannot read the vars file of -e @${path}: ${reason}`, fix: 'pass the path of a YAML or JSON file: -e @vars.yml' }]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, customTags: secretTags(env), merge: true, uniqueKeys: true });
  const source = new YamlSource(doc, lineCounter, file);
  const problems: InputProblem[] = yamlProblems(source, text, [...doc.errors, ...doc.warnings]);
  if (problems.length > 0) throw new InvalidInputError(problems);
  if (doc.contents === null) return {};
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    throw new InvalidInputError([{ location: source.ofNode(undefined), message: `cannot read the YAML: ${(err as Error).message}`, fix: 'use fewer aliases (*name)' }]);
  }
  if (!isPlainMap(data)) {
    throw new InvalidInputError([
      { location: source.ofNode(undefined), message: `a vars file must be a map of names to values, got ${describeValue(data)}`, fix: 'write one var a line, e.g.\n  consul_datacenter: dc1\n  servers: [a, b]' },
    ]);
  }
  return data;
}
