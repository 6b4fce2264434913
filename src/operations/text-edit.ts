import { mask } from '../core/secret.ts';
import { change, fail, leaving, noop, type Plan } from './operation.ts';
import { unifiedDiff } from './diff.ts';
import type { PathState } from '../facts/path-state.ts';
import { attributeDrift, fixAttributes, keepAttributes, type Attributes } from './attributes.ts';
import { asText, holdsSecret, writeFileCommands } from './file-content.ts';
import { attributesEffect, predictFile } from './predict.ts';

/**
 * What the text-editing operations (line, replace, block) share: the probe returns
 * the whole file, the edit happens in JS on the controller (a pattern never reaches a
 * shell), and the new content is written atomically. Its effect is the new content,
 * so later steps of the run on the same file build on it.
 */

/** The params every text edit (line, replace, block) takes besides its own. */
export interface TextEditParams {
  readonly id: string;
  readonly path: string;
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

/** Files larger than this are not edited (the whole content travels in the probe). */
export const TEXT_MAX_BYTES = 1024 * 1024;

/** The probe of a text edit: the content, no hash. */
export const TEXT_PROBE = { hash: false, contentMax: TEXT_MAX_BYTES } as const;

/**
 * The text an edit starts from (`before` undefined: the file is absent and will be
 * created), or the plan when there is nothing to edit or it cannot be edited.
 */
export function currentText(
  kind: string,
  id: string,
  path: string,
  st: PathState,
  state: 'present' | 'absent',
  create: boolean,
): { before: string | undefined } | Plan {
  if (st.type === 'absent') {
    if (state === 'absent') return noop(`${path} does not exist`);
    if (!create) return fail(`${kind} '${id}': ${path} does not exist; set create: true to create it`);
    return { before: undefined };
  }
  if (st.type === 'link') return fail(`${kind} '${id}': ${path} is a symlink (to ${st.target ?? '?'}); give the real file's path`);
  if (st.type !== 'file') return fail(`${kind} '${id}': ${path} is not a regular file`);
  if (!st.content) return fail(`${kind} '${id}': ${path} is larger than ${TEXT_MAX_BYTES} bytes; use the file operation`);
  const before = asText(st.content);
  if (before === undefined) return fail(`${kind} '${id}': ${path} is not a text file`);
  return { before };
}

export function isPlan(x: { before: string | undefined } | Plan): x is Plan {
  return 'kind' in x;
}

/**
 * The plan of a text edit: noop (only attributes may drift), or an atomic rewrite
 * whose effect is the new content, so later steps on the same file build on it.
 */
export function rewrite(
  path: string,
  st: PathState,
  before: string | undefined,
  edit: { after: string; why: string },
  o: { want: Attributes; backup: boolean; secret: boolean },
): Plan {
  if (edit.after === (before ?? '') && before !== undefined) {
    const drift = attributeDrift(st, o.want);
    if (drift.length === 0) return noop(mask(`${path}: ${edit.why}`));
    return leaving(change(`${path}: ${drift.join(', ')}`, fixAttributes(path, st, o.want)), attributesEffect(path, o.want));
  }
  const hidden = o.secret || holdsSecret(edit.after);
  const content = Buffer.from(edit.after);
  const attrs = keepAttributes(st, o.want);
  const commands = writeFileCommands(path, content, {
    ...attrs,
    backup: o.backup && !st.pending,
    secret: hidden,
    description: `${path} (${content.length} bytes)`,
  });
  const diff = hidden ? `--- ${path} (host)\n+++ ${path} (wanted)\n(secret content not shown)` : unifiedDiff(before, edit.after, { path });
  return leaving(change(mask(`${before === undefined ? 'create' : 'edit'} ${path}: ${edit.why}`), commands, mask(diff)), {
    path,
    kind: 'state',
    state: predictFile(content, attrs, st),
    from: st,
    secret: hidden,
  });
}

