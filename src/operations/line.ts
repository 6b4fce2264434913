import type { CommandResult } from '../core/result.ts';
import { mask } from '../core/secret.ts';
import { checkId, paramError, isFail } from './kit.ts';
import { change, fail, noop, type Operation, type Plan } from './operation.ts';
import { unifiedDiff } from './diff.ts';
import { checkAbsPath, checkAttributes, checkBoolean } from './path-params.ts';
import { attributeDrift, fixAttributes, keepAttributes } from './attributes.ts';
import { asText, holdsSecret, writeFileCommands } from './file-content.ts';
import { readPathProbe } from './path-operation.ts';
import { pathStateCommand } from '../facts/path-state.ts';

export interface LineParams {
  readonly id: string;
  readonly path: string;
  /** The whole line (no newline). */
  readonly line: string;
  /**
   * present: the LAST line matching it is replaced by `line` (appended when none
   * matches); absent: every matching line is removed. Without it, lines equal to
   * `line` are looked for. A JS RegExp (or its source), matched on the controller.
   */
  readonly regexp?: string | RegExp;
  readonly state?: 'present' | 'absent';
  /** Create the file (with just the line) when it does not exist (default false: fail). */
  readonly create?: boolean;
  /** Attributes of the file (a created one gets 0644 unless mode is given). */
  readonly mode?: string;
  readonly owner?: string | number;
  readonly group?: string | number;
  /** Keep the replaced file as `<path>.cairn-bak.<epoch>` (default true). */
  readonly backup?: boolean;
  /** Never show the file's content (diff hidden). Implied when the new content holds secret text. */
  readonly secret?: boolean;
  readonly notify?: readonly string[];
}

const KIND = 'line';
/** Files larger than this are not edited (the whole content travels in the probe). */
export const LINE_MAX_BYTES = 1024 * 1024;

/**
 * One line in a text file, like Ansible's lineinfile. The probe returns the whole
 * file (base64); plan() edits it in JS (the regexp never reaches a shell, so no
 * sed quoting) and writes the new content atomically.
 */
export function line(params: LineParams): Operation {
  const id = checkId(KIND, params.id);
  const path = checkAbsPath(KIND, id, 'path', params.path);
  const wantedLine = params.line;
  if (typeof wantedLine !== 'string' || /[\n\r]/.test(wantedLine)) {
    throw paramError(KIND, id, 'line', `must be one line of text, got ${JSON.stringify(wantedLine)}`, 'give a single line without newlines, or use the file operation');
  }
  const state = params.state ?? 'present';
  if (state !== 'present' && state !== 'absent') {
    throw paramError(KIND, id, 'state', `must be present or absent, got ${JSON.stringify(state)}`, 'write state: present or state: absent');
  }
  const re = checkRegexp(id, params.regexp);
  const create = checkBoolean(KIND, id, 'create', params.create) ?? false;
  const backup = checkBoolean(KIND, id, 'backup', params.backup) ?? true;
  const secret = checkBoolean(KIND, id, 'secret', params.secret) ?? false;
  const want = checkAttributes(KIND, id, params);

  return {
    kind: KIND,
    id,
    ...(params.notify ? { notify: params.notify } : {}),
    probe: () => pathStateCommand(path, { hash: false, contentMax: LINE_MAX_BYTES }),
    plan(probe: CommandResult | undefined): Plan {
      const st = readPathProbe(KIND, id, probe);
      if (isFail(st)) return st;
      let before: string | undefined;
      if (st.type === 'absent') {
        if (state === 'absent') return noop(`${path} does not exist`);
        if (!create) return fail(`${KIND} '${id}': ${path} does not exist; set create: true to create it`);
      } else if (st.type === 'link') {
        return fail(`${KIND} '${id}': ${path} is a symlink (to ${st.target ?? '?'}); give the real file's path`);
      } else if (st.type !== 'file') {
        return fail(`${KIND} '${id}': ${path} is not a regular file`);
      } else {
        if (!st.content) return fail(`${KIND} '${id}': ${path} is larger than ${LINE_MAX_BYTES} bytes; use the file operation`);
        before = asText(st.content);
        if (before === undefined) return fail(`${KIND} '${id}': ${path} is not a text file`);
      }
      const edit = editLines(before ?? '', wantedLine, re, state);
      if (edit.after === (before ?? '') && before !== undefined) {
        const drift = attributeDrift(st, want);
        if (drift.length === 0) return noop(mask(`${path}: ${edit.why}`));
        return change(`${path}: ${drift.join(', ')}`, fixAttributes(path, st, want));
      }
      const hidden = secret || holdsSecret(edit.after) || holdsSecret(wantedLine);
      const commands = writeFileCommands(path, Buffer.from(edit.after), {
        ...keepAttributes(st, want),
        backup,
        secret: hidden,
        description: `${path} (${Buffer.byteLength(edit.after)} bytes)`,
      });
      const diff = hidden
        ? `--- ${path} (host)\n+++ ${path} (wanted)\n(secret content not shown)`
        : unifiedDiff(before, edit.after, { path });
      return change(mask(`${before === undefined ? 'create' : 'edit'} ${path}: ${edit.why}`), commands, mask(diff));
    },
  };
}

function checkRegexp(id: string, value: unknown): RegExp | undefined {
  if (value === undefined) return undefined;
  if (value instanceof RegExp) return new RegExp(value.source, value.flags.replace(/[gy]/g, ''));
  if (typeof value !== 'string' || value === '') {
    throw paramError(KIND, id, 'regexp', `must be a regular expression, got ${JSON.stringify(value)}`, "give a pattern such as '^PermitRootLogin\\s'");
  }
  try {
    return new RegExp(value);
  } catch (err) {
    throw paramError(KIND, id, 'regexp', `does not compile: ${(err as Error).message}`, 'fix the pattern (JavaScript RegExp syntax)');
  }
}

/** The edit on the text (pure): the new text and a short reason. */
export function editLines(text: string, wanted: string, re: RegExp | undefined, state: 'present' | 'absent'): { after: string; why: string } {
  const eol = text === '' || text.endsWith('\n');
  const lines = text === '' ? [] : (eol ? text.slice(0, -1) : text).split('\n');
  const join = (ls: string[], endNewline: boolean) => (ls.length === 0 ? '' : ls.join('\n') + (endNewline ? '\n' : ''));
  const matches = (l: string) => (re ? re.test(l) : l === wanted);
  if (state === 'absent') {
    const kept = lines.filter((l) => !matches(l));
    const removed = lines.length - kept.length;
    if (removed === 0) return { after: text, why: re ? `no line matches ${re}` : 'the line is absent' };
    return { after: join(kept, eol), why: `remove ${removed} line${removed > 1 ? 's' : ''}` };
  }
  if (re) {
    let last = -1;
    lines.forEach((l, i) => {
      if (re.test(l)) last = i;
    });
    if (last >= 0) {
      if (lines[last] === wanted) return { after: text, why: 'the line is present' };
      const out = [...lines];
      out[last] = wanted;
      return { after: join(out, eol), why: `replace line ${last + 1}` };
    }
  }
  if (lines.includes(wanted)) return { after: text, why: 'the line is present' };
  return { after: join([...lines, wanted], true), why: 'append the line' };
}
