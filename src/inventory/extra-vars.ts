import { parseDocument } from 'yaml';
import { UsageError } from '../core/errors.ts';
import { mask } from '../core/secret.ts';
import { isPlainMap, setOwn } from './plain-map.ts';
import type { Vars } from './types.ts';
import { mergeVars } from './merge-vars.ts';
import { secretTags } from './yaml-tags.ts';

const KEY_PART = /^[A-Za-z_][A-Za-z0-9_-]*$/;

interface Problem {
  entry: string;
  message: string;
  fix: string;
}

/**
 * Parse `-e` values, later ones winning (maps merge):
 * - `key=value`: value read as YAML (`n=3` a number, `l=[a,b]` a list,
 *   `on=true` a boolean, `pw=!secret_env PW` a Secret); text that is not
 *   flow YAML stays text (`msg=a: b` is the string "a: b").
 * - `key.sub=value`: sets a nested key.
 * - `{...}`: a YAML/JSON flow map merged as a whole.
 * Throws UsageError naming every malformed entry and how to write it.
 */
export function parseExtraVars(list: readonly string[], env: NodeJS.ProcessEnv = process.env): Vars {
  const layers: Vars[] = [];
  const problems: Problem[] = [];
  for (const entry of list) {
    const result = parseEntry(entry, env);
    if ('problem' in result) problems.push(result.problem);
    else layers.push(result.vars);
  }
  if (problems.length > 0) {
    throw new UsageError(
      mask(problems.map((p) => `invalid -e (--extra-vars) value '${p.entry}': ${p.message}\n  fix: ${p.fix}`).join('\n')),
    );
  }
  return mergeVars(layers);
}

function parseEntry(entry: string, env: NodeJS.ProcessEnv): { vars: Vars } | { problem: Problem } {
  const problem = (message: string, fix: string) => ({ problem: { entry, message, fix } });
  if (entry.trim().startsWith('{')) {
    const v = parseValue(entry, env);
    if ('error' in v) return problem(v.error, "write a YAML or JSON map, e.g. -e '{datacenter: dc1, servers: 3}'");
    if (!isPlainMap(v.value)) return problem('expected a map', "write a YAML or JSON map, e.g. -e '{datacenter: dc1}'");
    return { vars: v.value };
  }
  const eq = entry.indexOf('=');
  if (eq <= 0) return problem('expected key=value', 'write -e name=value, e.g. -e consul_datacenter=dc1');
  const key = entry.slice(0, eq).trim();
  const parts = key.split('.');
  const bad = parts.find((p) => !KEY_PART.test(p));
  if (bad !== undefined) {
    return problem(
      `'${key}' is not a variable name`,
      "use letters, digits, '_' and '-' (starting with a letter or '_'), and '.' for nested keys: -e consul.datacenter=dc1",
    );
  }
  const v = parseValue(entry.slice(eq + 1), env);
  if ('error' in v) return problem(v.error, "quote the whole flag and write valid YAML flow, e.g. -e 'servers=[a, b]'");
  return { vars: nest(parts, v.value) };
}

function parseValue(text: string, env: NodeJS.ProcessEnv): { value: unknown } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { value: '' };
  const doc = parseDocument(trimmed, { customTags: secretTags(env), prettyErrors: false });
  const tagError = [...doc.errors, ...doc.warnings].find((e) => e.code === 'TAG_RESOLVE_FAILED');
  if (tagError) return { error: tagError.message };
  const flow = trimmed.startsWith('[') || trimmed.startsWith('{');
  if (doc.errors.length > 0) return flow ? { error: doc.errors[0]!.message } : { value: text };
  const value = doc.toJS() as unknown;
  // block collections ("a: b", "- x") are text on a command line, not structure
  if (!flow && value !== null && typeof value === 'object' && (Array.isArray(value) || isPlainMap(value))) return { value: text };
  return { value };
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
