import { isSecret, type Secret } from '../core/secret.ts';
import { checkId, paramError, paramNames, rejectCoercedSecret, rejectUnknownParams } from './kit.ts';
import type { Operation, Plan } from './operation.ts';
import { checkAbsPath, checkAttributes, checkBoolean, checkState } from './path-params.ts';
import { holdsSecret } from './file-content.ts';
import { pathOperation } from './path-operation.ts';
import { TEXT_PROBE, currentText, isPlan, rewrite, type TextEditParams } from './text-edit.ts';

export interface LineParams extends TextEditParams {
  /**
   * The whole line (no newline). A Secret (or secretText`pw=${secret}`) is written
   * unmasked and never shown. Text holding the mask alone ('pw=' + secret) is refused.
   */
  readonly line: string | Secret;
  /**
   * present: the LAST line matching it is replaced by `line` (appended when none
   * matches); absent: every matching line is removed. Without it, lines equal to
   * `line` are looked for. A JS RegExp (or its source), matched on the controller.
   */
  readonly regexp?: string | RegExp;
  readonly state?: 'present' | 'absent';
  /** Create the file (with just the line) when it does not exist (default false: fail). */
  readonly create?: boolean;
}

const KIND = 'line';
const PARAMS = paramNames<LineParams>({ id: true, path: true, line: true, regexp: true, state: true, create: true, mode: true, owner: true, group: true, backup: true, secret: true, notify: true });
export { TEXT_MAX_BYTES as LINE_MAX_BYTES } from './text-edit.ts';

/**
 * One line in a text file, like Ansible's lineinfile. The probe returns the whole
 * file (base64); plan() edits it in JS (the regexp never reaches a shell, so no
 * sed quoting) and writes the new content atomically.
 */
export function line(params: LineParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  const path = checkAbsPath(KIND, id, 'path', params.path);
  const secretLine = isSecret(params.line);
  const wantedLine = isSecret(params.line) ? params.line.reveal() : params.line;
  if (typeof wantedLine !== 'string' || /[\n\r]/.test(wantedLine)) {
    const got = secretLine ? 'a secret with a newline' : JSON.stringify(wantedLine);
    throw paramError(KIND, id, 'line', `must be one line of text, got ${got}`, 'give a single line without newlines, or use the file operation');
  }
  rejectCoercedSecret(KIND, id, 'line', wantedLine);
  const state = checkState(KIND, id, params.state ?? 'present');
  const re = checkRegexp(id, params.regexp);
  const create = checkBoolean(KIND, id, 'create', params.create) ?? false;
  const backup = checkBoolean(KIND, id, 'backup', params.backup) ?? true;
  const secret = (checkBoolean(KIND, id, 'secret', params.secret) ?? false) || secretLine;
  const want = checkAttributes(KIND, id, params);

  return pathOperation(KIND, id, path, { notify: params.notify, probe: TEXT_PROBE }, (st): Plan => {
    const text = currentText(KIND, id, path, st, state, create);
    if (isPlan(text)) return text;
    const { before } = text;
    const edit = editLines(before ?? '', wantedLine, re, state);
    return rewrite(path, st, before, edit, { want, backup, secret: secret || holdsSecret(wantedLine) });
  });
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
