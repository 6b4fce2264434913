import { checkId, paramError, paramNames, rejectCoercedSecret, rejectUnknownParams } from './kit.ts';
import type { Operation, Plan } from './operation.ts';
import { checkAbsPath, checkAttributes, checkBoolean } from './path-params.ts';
import { holdsSecret } from './file-content.ts';
import { pathOperation } from './path-operation.ts';
import { TEXT_PROBE, currentText, isPlan, rewrite, type TextEditParams } from './text-edit.ts';

export interface ReplaceParams extends TextEditParams {
  /**
   * Every match of it in the whole file is replaced. A string is compiled with the
   * `m` flag (`^`/`$` match at each line, as in Ansible's replace); a RegExp keeps its
   * flags (`g` is always added).
   */
  readonly regexp: string | RegExp;
  /**
   * The replacement: `\1` / `\g<1>` / `\g<name>` (Ansible, Python) or `$1` / `$<name>` /
   * `$&` (JavaScript) insert groups; `\\` and `$$` are a literal `\` and `$`. Default ''.
   */
  readonly replace?: string;
}

const PARAMS = paramNames<ReplaceParams>({ id: true, path: true, regexp: true, replace: true, mode: true, owner: true, group: true, backup: true, secret: true, notify: true });
const KIND = 'replace';

/**
 * Every match of a regular expression in a text file, replaced (Ansible's replace).
 * The match runs on the controller on the file's content; a file without a match is
 * left alone. The file must exist (an earlier step of the same run may create it).
 *
 * @example
 * replace({ id: 'no-password-login', path: '/etc/ssh/sshd_config', regexp: '^#?PasswordAuthentication .*$', replace: 'PasswordAuthentication no', notify: ['restart sshd'] })
 */
export function replace(params: ReplaceParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  const path = checkAbsPath(KIND, id, 'path', params.path);
  const re = compile(id, params.regexp);
  const replacement = params.replace ?? '';
  if (typeof replacement !== 'string') {
    throw paramError(KIND, id, 'replace', `must be text, got ${typeof replacement}`, "give the replacement text, e.g. replace: 'Port \\1'");
  }
  rejectCoercedSecret(KIND, id, 'replace', replacement);
  const template = parseReplacement(id, replacement);
  checkGroups(id, re, template);
  const backup = checkBoolean(KIND, id, 'backup', params.backup) ?? true;
  const secret = checkBoolean(KIND, id, 'secret', params.secret) ?? false;
  const want = checkAttributes(KIND, id, params);

  return pathOperation(KIND, id, path, { notify: params.notify, probe: TEXT_PROBE }, (st): Plan => {
    const text = currentText(KIND, id, path, st, 'present', false);
    if (isPlan(text)) return text;
    const before = text.before ?? '';
    let n = 0;
    const after = before.replace(re, (...args: unknown[]) => {
      n++;
      return expand(template, args);
    });
    const why = n === 0 ? `no match of ${re}` : after === before ? `${n} match${n > 1 ? 'es' : ''} of ${re} already replaced` : `replace ${n} match${n > 1 ? 'es' : ''} of ${re}`;
    return rewrite(path, st, before, { after, why }, { want, backup, secret: secret || holdsSecret(replacement) });
  });
}

function compile(id: string, value: unknown): RegExp {
  if (value instanceof RegExp) return new RegExp(value.source, value.flags.includes('g') ? value.flags : `${value.flags}g`);
  if (typeof value !== 'string' || value === '') {
    throw paramError(KIND, id, 'regexp', `must be a regular expression, got ${JSON.stringify(value)}`, "give a pattern such as '^#?Port\\s+\\d+'");
  }
  try {
    return new RegExp(value, 'gm');
  } catch (err) {
    throw paramError(KIND, id, 'regexp', `does not compile: ${(err as Error).message}`, 'fix the pattern (JavaScript RegExp syntax)');
  }
}

/** A replacement as literal text and group references. */
type Part = { text: string } | { group: number | string };

/** `\1`, `\g<1>`, `\g<name>`, `$1`, `$<name>`, `$&`; `\\` and `$$` are literal. */
export function parseReplacement(id: string, s: string): Part[] {
  const parts: Part[] = [];
  let text = '';
  const flush = () => {
    if (text) parts.push({ text });
    text = '';
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const rest = s.slice(i + 1);
    let m: RegExpExecArray | null;
    if (c === '\\' && rest.startsWith('\\')) {
      text += '\\';
      i++;
    } else if (c === '\\' && (m = /^\d{1,2}/.exec(rest))) {
      flush();
      parts.push({ group: Number(m[0]) });
      i += m[0].length;
    } else if (c === '\\' && (m = /^g<([A-Za-z_][A-Za-z0-9_]*|\d+)>/.exec(rest))) {
      flush();
      parts.push({ group: /^\d+$/.test(m[1]!) ? Number(m[1]) : m[1]! });
      i += m[0].length;
    } else if (c === '\\' && rest.startsWith('g<')) {
      throw paramError(KIND, id, 'replace', `has an unreadable group reference at ${JSON.stringify(s.slice(i, i + 8))}`, 'write \\g<1> or \\g<name>');
    } else if (c === '$' && rest.startsWith('$')) {
      text += '$';
      i++;
    } else if (c === '$' && rest.startsWith('&')) {
      flush();
      parts.push({ group: 0 });
      i++;
    } else if (c === '$' && (m = /^\d{1,2}/.exec(rest))) {
      flush();
      parts.push({ group: Number(m[0]) });
      i += m[0].length;
    } else if (c === '$' && (m = /^<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest))) {
      flush();
      parts.push({ group: m[1]! });
      i += m[0].length;
    } else text += c;
  }
  flush();
  return parts;
}

/** Every group the replacement names exists in the pattern (Python refuses the same). */
function checkGroups(id: string, re: RegExp, template: Part[]): void {
  const probe = new RegExp(`${re.source}|`).exec('')!;
  const count = probe.length - 1;
  const names = Object.keys(probe.groups ?? {});
  for (const p of template) {
    if ('text' in p) continue;
    if (typeof p.group === 'number' ? p.group > count : !names.includes(p.group)) {
      throw paramError(KIND, id, 'replace', `refers to group ${p.group}, which ${re} does not have`, `use a group of the pattern (it has ${count}${names.length ? `: ${names.join(', ')}` : ''})`);
    }
  }
}

/** The replacement for one match (`args` as String.prototype.replace passes them). */
function expand(template: Part[], args: unknown[]): string {
  const last = args[args.length - 1];
  const named = typeof last === 'object' && last !== null ? (last as Record<string, string | undefined>) : undefined;
  const groups = args.slice(0, named ? -3 : -2) as (string | undefined)[];
  return template
    .map((p) => {
      if ('text' in p) return p.text;
      if (typeof p.group === 'number') return groups[p.group] ?? '';
      return named?.[p.group] ?? '';
    })
    .join('');
}
