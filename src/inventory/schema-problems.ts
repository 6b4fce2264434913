import type { z } from 'zod';
import type { InputProblem } from '../core/errors.ts';
import { describeValue } from './describe-value.ts';
import { exampleText, FIELD_HELP, type FieldHelp, type FieldName } from './field-help.ts';
import { KEYS } from './schema.ts';
import { didYouMean, listChoices } from './suggest.ts';
import type { YamlPath, YamlSource } from './yaml-source.ts';

/** Zod issues of the inventory schema as problems with file:line, message and fix. */
export function schemaProblems(issues: readonly z.core.$ZodIssue[], data: unknown, source: YamlSource): InputProblem[] {
  return issues.flatMap((issue) => issueProblems(issue, data, source));
}

function issueProblems(issue: z.core.$ZodIssue, data: unknown, source: YamlSource): InputProblem[] {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => unknownKey(path, key, source));
  }
  if (issue.code === 'invalid_key') {
    const name = String(path[path.length - 1]);
    const kind = path[0] === 'groups' ? 'group' : 'host';
    return [
      {
        location: source.locate(path, 'key'),
        message: `'${name}' is not a valid ${kind} name`,
        fix: `use letters, digits, '_', '.' and '-' (not starting with '.' or '-'): names are used in --limit patterns`,
      },
    ];
  }
  const value = valueAt(data, path);
  if (value === undefined && issue.code === 'invalid_type') return [missingKey(path, source)];
  const field = fieldAt(path);
  if (field === 'password' || field === 'become_password') return [notASecret(path, field, value, source)];
  const help = FIELD_HELP[fieldAt(path)] as FieldHelp;
  const last = path[path.length - 1];
  const expected = typeof last === 'number' && help.item ? help.item : help.expected;
  return [
    {
      location: source.locate(path),
      message: `${subjectOf(path)} must be ${expected}, got ${describeValue(value)}`,
      fix: `write it like:${exampleText(help.example)}`,
    },
  ];
}

/** A password written as plain text: refused, and the text is never repeated in the message. */
function notASecret(path: YamlPath, field: 'password' | 'become_password', value: unknown, source: YamlSource): InputProblem {
  const what = typeof value === 'string' ? 'a plain text (not shown)' : describeValue(value);
  const env = field === 'password' ? 'CAIRN_PASSWORD' : 'CAIRN_BECOME_PASSWORD';
  return {
    location: source.locate(path),
    message: `${subjectOf(path)} must be a secret (!secret_env NAME or !secret "text"), got ${what}: a password is never read from plain inventory text`,
    fix: `use ${field}: !secret_env ${env} and export ${env} before running cairn (or pass --ask-${field === 'password' ? 'pass' : 'become-pass'})`,
  };
}

function unknownKey(path: YamlPath, key: string, source: YamlSource): InputProblem {
  const valid = validKeysAt(path);
  const hint = didYouMean(key, valid);
  const varsHint = path.length === 1 && path[0] === 'connection' ? '' : '; a variable goes under vars:';
  return {
    location: source.locateKey(path, key),
    message: `unknown key '${key}' in ${containerName(path)}`,
    fix: `${hint ? `${hint} ` : ''}valid keys here are ${listChoices(valid)}${hint ? '' : varsHint}`,
  };
}

function missingKey(path: YamlPath, source: YamlSource): InputProblem {
  const key = String(path[path.length - 1]);
  const help = FIELD_HELP[fieldAt(path)] as FieldHelp;
  return {
    location: source.locate(path),
    message: `${containerName(path.slice(0, -1))} has no '${key}:' (it is required)`,
    fix: `add it, e.g.${exampleText(help.example)}`,
  };
}

function validKeysAt(path: YamlPath): readonly string[] {
  if (path.length === 0) return KEYS.inventory;
  if (path[0] === 'connection') return KEYS.connection;
  if (path[0] === 'hosts') return KEYS.host;
  return KEYS.group;
}

/** "host 'alp1'", "group 'servers'", "connection", "the inventory". */
function containerName(path: YamlPath): string {
  if ((path[0] === 'hosts' || path[0] === 'groups') && path.length >= 2) {
    return `${path[0] === 'hosts' ? 'host' : 'group'} '${String(path[1])}'`;
  }
  if (path[0] === 'connection') return 'connection';
  return path.length === 0 ? 'the inventory' : `'${String(path[0])}'`;
}

/** "host 'alp1' port", "group 'g' hosts[1]", "connection connect_timeout", "hosts". */
function subjectOf(path: YamlPath): string {
  const inEntry = (path[0] === 'hosts' || path[0] === 'groups') && path.length >= 2;
  const head = inEntry ? containerName(path) : path[0] === 'connection' && path.length > 1 ? 'connection' : '';
  const rest = path.slice(inEntry ? 2 : head ? 1 : 0);
  const tail = rest.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
  if (!head) return tail || 'the inventory';
  return tail ? `${head}: ${tail}` : head;
}

/** Which FIELD_HELP entry describes the value at `path`. */
export function fieldAt(path: YamlPath): FieldName {
  const keys = path.filter((p) => typeof p !== 'number').map(String);
  const [top, name, key] = keys;
  if (top === undefined) return 'inventory';
  if (top === 'vars') return 'vars';
  if (top === 'connection') return (name as FieldName | undefined) && name! in FIELD_HELP ? (name as FieldName) : 'connection';
  if (top === 'hosts' || top === 'groups') {
    if (name === undefined) return top;
    if (key === undefined) return top === 'hosts' ? 'host' : 'group';
    if (top === 'hosts' && key === 'connection') return 'connection_kind';
    if (top === 'hosts' && key === 'groups') return 'host_groups';
    if (top === 'groups' && key === 'hosts') return 'group_hosts';
    return key in FIELD_HELP ? (key as FieldName) : top === 'hosts' ? 'host' : 'group';
  }
  return 'inventory';
}

/** The raw value at `path`, or undefined. */
export function valueAt(data: unknown, path: YamlPath): unknown {
  let v: unknown = data;
  for (const step of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[step];
  }
  return v;
}
