import { parseDocument } from 'yaml';
import { InvalidInputError, UsageError, type InputProblem } from '../core/errors.ts';
import { mask } from '../core/secret.ts';
import { loadVarsFile } from './extra-vars-file.ts';
import { isPlainMap, setOwn } from './plain-map.ts';
import type { Vars } from './types.ts';
import { mergeVars } from './merge-vars.ts';
import { secretTags } from './yaml-tags.ts';

const KEY_PART = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** `pw=!secret_env PW`, `pw=!secret text`: the one value of key=value that is not taken as given. */
const SECRET_VALUE = /^!secret(_env)?(\s|$)/;

interface Problem {
  entry: string;
  message: string;
  fix: string;
}

/**
 * Parse `-e` values in order, later ones winning (maps merge):
 * - `key=value`: the value is the text as given, like Ansible (`n=3` is the
 *   string "3", `x=&& y` keeps its `&& `, `#c`, quotes and spaces are kept);
 *   only `key=!secret_env NAME` / `key=!secret text` give a Secret.
 * - `key.sub=value`: sets a nested key.
 * - `{...}`: a YAML/JSON flow map merged as a whole (numbers, lists, booleans typed).
 * - `@file`: a YAML or JSON file of vars (InvalidInputError with file:line).
 * Throws UsageError naming every malformed entry and how to write it.
 */
export function parseExtraVars(list: readonly string[], env: NodeJS.ProcessEnv = process.env): Vars {
  const layers: Vars[] = [];
  const problems: Problem[] = [];
  const fileProblems: InputProblem[] = [];
  for (const entry of list) {
    if (entry.startsWith('@')) {
      if (entry.length === 1) {
        problems.push({ entry, message: 'expected a file name after @', fix: 'write -e @vars.yml' });
        continue;
      }
      try {
        layers.push(loadVarsFile(entry.slice(1), env));
      } catch (err) {
        if (!(err instanceof InvalidInputError)) throw err;
        fileProblems.push(...err.problems);
      }
      continue;
    }
    const result = parseEntry(entry, env);
    if ('problem' in result) problems.push(result.problem);
    else layers.push(result.vars);
  }
  if (problems.length > 0) {
    throw new UsageError(
      mask(problems.map((p) => `invalid -e (--extra-vars) value '${p.entry}': ${p.message}\n  fix: ${p.fix}`).join('\n')),
    );
  }
  if (fileProblems.length > 0) throw new InvalidInputError(fileProblems);
  return mergeVars(layers);
}

function parseEntry(entry: string, env: NodeJS.ProcessEnv): { vars: Vars } | { problem: Problem } {
  const problem = (message: string, fix: string) => ({ problem: { entry, message, fix } });
  if (entry.trim().startsWith('{')) {
    const v = parseYaml(entry, env);
    if ('error' in v) return problem(v.error, "write a YAML or JSON map, e.g. -e '{datacenter: dc1, servers: 3}'");
    if (!isPlainMap(v.value)) return problem('expected a map', "write a YAML or JSON map, e.g. -e '{datacenter: dc1}'");
    return { vars: v.value };
  }
  if (entry.trim().startsWith('[')) return problem('a list is not a set of vars', "name it: -e 'servers=[a, b]' sets the text, -e '{servers: [a, b]}' the list");
  const eq = entry.indexOf('=');
  if (eq <= 0) return problem('expected key=value', 'write -e name=value, e.g. -e consul_datacenter=dc1 (or -e @vars.yml, -e \'{"name": 1}\')');
  const key = entry.slice(0, eq).trim();
  const parts = key.split('.');
  const bad = parts.find((p) => !KEY_PART.test(p));
  if (bad !== undefined) {
    return problem(
      `'${key}' is not a variable name`,
      "use letters, digits, '_' and '-' (starting with a letter or '_'), and '.' for nested keys: -e consul.datacenter=dc1",
    );
  }
  const text = entry.slice(eq + 1);
  if (!SECRET_VALUE.test(text)) return { vars: nest(parts, text) };
  const v = parseYaml(text, env);
  if ('error' in v) return problem(v.error, `write -e '${key}=!secret_env NAME' with NAME set in the environment`);
  return { vars: nest(parts, v.value) };
}

/** A flow map or a tagged secret scalar, as YAML. */
function parseYaml(text: string, env: NodeJS.ProcessEnv): { value: unknown } | { error: string } {
  const doc = parseDocument(text.trim(), { customTags: secretTags(env), prettyErrors: false, uniqueKeys: true });
  const error = doc.errors[0] ?? doc.warnings.find((e) => e.code === 'TAG_RESOLVE_FAILED');
  if (error) return { error: error.message };
  return { value: doc.toJS() as unknown };
}

function nest(parts: string[], value: unknown): Vars {
  let v = value;
  for (const part of [...parts].reverse()) {
    const m: Vars = {};
    setOwn(m, part, v);
    v = m;
  }
  return v as Vars;
}
