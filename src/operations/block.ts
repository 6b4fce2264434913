import { checkId, paramError, paramNames, rejectCoercedSecret, rejectUnknownParams } from './kit.ts';
import type { Operation, Plan } from './operation.ts';
import { checkAbsPath, checkAttributes, checkBoolean, checkState } from './path-params.ts';
import { holdsSecret } from './file-content.ts';
import { pathOperation } from './path-operation.ts';
import { TEXT_PROBE, currentText, isPlan, rewrite, type TextEditParams } from './text-edit.ts';

export interface BlockParams extends TextEditParams {
  /** The lines between the markers. Empty (or state: absent): the block is removed. */
  readonly block?: string;
  /** present (default) or absent: the block with its markers is removed. */
  readonly state?: 'present' | 'absent';
  /**
   * The marker lines, `{mark}` replaced by markerBegin / markerEnd. Default
   * `# {mark} CAIRN MANAGED BLOCK`; give each block of one file a marker of its own.
   */
  readonly marker?: string;
  /** The `{mark}` of the first marker line. */
  readonly markerBegin?: string;
  /** The `{mark}` of the last marker line. */
  readonly markerEnd?: string;
  /** Where a new block goes: 'EOF' (default), or after the last line matching this pattern. */
  readonly insertAfter?: string | RegExp;
  /** ... or 'BOF', or before the last line matching this pattern. */
  readonly insertBefore?: string | RegExp;
  /** Create the file (with just the block) when it does not exist (default false: fail). */
  readonly create?: boolean;
}

const PARAMS = paramNames<BlockParams>({ id: true, path: true, block: true, state: true, marker: true, markerBegin: true, markerEnd: true, insertAfter: true, insertBefore: true, create: true, mode: true, owner: true, group: true, backup: true, secret: true, notify: true });
const KIND = 'block';
const DEFAULT_MARKER = '# {mark} CAIRN MANAGED BLOCK';

type Where = { at: 'EOF' } | { at: 'BOF' } | { after: RegExp } | { before: RegExp };

/**
 * A block of lines between two marker lines, inserted, updated or removed as one unit
 * (Ansible's blockinfile). A file with the markers gets its block replaced in place;
 * one without gets it where insertAfter / insertBefore say.
 *
 * @example
 * block({ id: 'hosts', path: '/etc/hosts', marker: '# {mark} cluster hosts', block: '10.0.0.11 pi1\n10.0.0.12 pi2' })
 */
export function block(params: BlockParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  const path = checkAbsPath(KIND, id, 'path', params.path);
  const state = checkState(KIND, id, params.state ?? 'present');
  const text = params.block ?? '';
  if (typeof text !== 'string') throw paramError(KIND, id, 'block', `must be text, got ${typeof text}`, 'give the lines of the block as one string');
  rejectCoercedSecret(KIND, id, 'block', text);
  const marker = params.marker ?? DEFAULT_MARKER;
  if (typeof marker !== 'string' || !marker.includes('{mark}') || /[\n\r]/.test(marker)) {
    throw paramError(KIND, id, 'marker', `must be one line containing {mark}, got ${JSON.stringify(marker)}`, "write e.g. marker: '# {mark} sshd hardening'");
  }
  const begin = marker.replace('{mark}', params.markerBegin ?? 'BEGIN');
  const end = marker.replace('{mark}', params.markerEnd ?? 'END');
  if (begin === end) throw paramError(KIND, id, 'markerBegin', 'and `markerEnd` give the same line', 'make them differ');
  const where = checkWhere(id, params.insertAfter, params.insertBefore);
  const create = checkBoolean(KIND, id, 'create', params.create) ?? false;
  const backup = checkBoolean(KIND, id, 'backup', params.backup) ?? true;
  const secret = checkBoolean(KIND, id, 'secret', params.secret) ?? false;
  const want = checkAttributes(KIND, id, params);
  const remove = state === 'absent' || text === '';
  const body = text === '' ? [] : (text.endsWith('\n') ? text.slice(0, -1) : text).split(/\r?\n/);

  return pathOperation(KIND, id, path, { notify: params.notify, probe: TEXT_PROBE }, (st): Plan => {
    const cur = currentText(KIND, id, path, st, remove ? 'absent' : 'present', create);
    if (isPlan(cur)) return cur;
    const edit = editBlock(cur.before ?? '', { begin, end, body: remove ? undefined : body, where });
    return rewrite(path, st, cur.before, edit, { want, backup, secret: secret || holdsSecret(text) });
  });
}

function checkWhere(id: string, after: unknown, before: unknown): Where {
  if (after !== undefined && before !== undefined) {
    throw paramError(KIND, id, 'insertAfter', 'and `insertBefore` are exclusive', 'give one of them');
  }
  const pattern = (param: string, v: unknown): RegExp => {
    if (v instanceof RegExp) return new RegExp(v.source, v.flags.replace(/[gy]/g, ''));
    if (typeof v !== 'string' || v === '') throw paramError(KIND, id, param, `must be 'EOF', 'BOF' or a pattern, got ${JSON.stringify(v)}`, "e.g. insertAfter: '^# Authentication'");
    try {
      return new RegExp(v);
    } catch (err) {
      throw paramError(KIND, id, param, `does not compile: ${(err as Error).message}`, 'fix the pattern (JavaScript RegExp syntax)');
    }
  };
  if (after === undefined && before === undefined) return { at: 'EOF' };
  if (after === 'EOF') return { at: 'EOF' };
  if (before === 'BOF') return { at: 'BOF' };
  if (after !== undefined) return { after: pattern('insertAfter', after) };
  return { before: pattern('insertBefore', before) };
}

/** The edit on the text (pure). `body` undefined: remove the block. */
export function editBlock(text: string, o: { begin: string; end: string; body: string[] | undefined; where: Where }): { after: string; why: string } {
  const eol = text === '' || text.endsWith('\n');
  const lines = text === '' ? [] : (eol ? text.slice(0, -1) : text).split('\n');
  const join = (ls: string[]) => (ls.length === 0 ? '' : `${ls.join('\n')}\n`);
  const b = lines.indexOf(o.begin);
  const e = b >= 0 ? lines.indexOf(o.end, b + 1) : -1;
  const wanted = o.body ? [o.begin, ...o.body, o.end] : [];
  if (b >= 0 && e < 0) throw new Error(`line ${b + 1} is the block's begin marker, but no end marker (${JSON.stringify(o.end)}) follows it; fix the file or the markers`);
  if (b >= 0 && e >= 0) {
    const now = lines.slice(b, e + 1);
    if (o.body && now.length === wanted.length && now.every((l, i) => l === wanted[i])) return { after: text, why: 'the block is up to date' };
    const out = [...lines.slice(0, b), ...wanted, ...lines.slice(e + 1)];
    return { after: join(out), why: o.body ? `update the block at line ${b + 1}` : `remove the block at line ${b + 1}` };
  }
  if (!o.body) return { after: text, why: 'the block is absent' };
  let at = lines.length;
  const last = (re: RegExp) => lines.reduce((found, l, i) => (re.test(l) ? i : found), -1);
  if ('at' in o.where) at = o.where.at === 'BOF' ? 0 : lines.length;
  else if ('after' in o.where) {
    const i = last(o.where.after);
    at = i >= 0 ? i + 1 : lines.length;
  } else {
    const i = last(o.where.before);
    at = i >= 0 ? i : lines.length;
  }
  const out = [...lines.slice(0, at), ...wanted, ...lines.slice(at)];
  return { after: join(out), why: `insert the block at line ${at + 1}` };
}
