import { sha256Once } from '../core/local-file.ts';
import type { PathState } from '../facts/path-state.ts';
import type { AttributePatch, PathEffect } from './operation.ts';
import type { Attributes } from './attributes.ts';

/**
 * What a change leaves at a path, predicted on the controller (ChangePlan.effects),
 * so later steps of the same run plan from it instead of their stale probe.
 */

/** An owner/group as given ('root', '0') into the name / numeric id pair of a state. */
function ids(value: string | undefined, name: string | undefined, num: number | undefined): { name?: string; num?: number } {
  if (value === undefined) return { ...(name !== undefined ? { name } : {}), ...(num !== undefined ? { num } : {}) };
  if (/^\d+$/.test(value)) return { num: Number(value), ...(value === '0' ? { name: 'root' } : {}) };
  return { name: value, ...(value === 'root' ? { num: 0 } : {}) };
}

function withIds(base: PathState, owner: string | undefined, group: string | undefined): PathState {
  const o = ids(owner, base.user, base.uid);
  const g = ids(group, base.group, base.gid);
  const { user: _u, uid: _uid, group: _g, gid: _gid, ...rest } = base;
  return {
    ...rest,
    ...(o.name !== undefined ? { user: o.name } : {}),
    ...(o.num !== undefined ? { uid: o.num } : {}),
    ...(g.name !== undefined ? { group: g.name } : {}),
    ...(g.num !== undefined ? { gid: g.num } : {}),
  };
}

/**
 * The state a write of `content` with these attributes leaves (see keepAttributes).
 * A file sent from the controller unread (`{ size, sha256 }`) leaves no content to
 * build on: a later edit of it in the same run is probed again.
 */
export function predictFile(content: Buffer | { readonly size: number; readonly sha256: string }, attrs: { mode: string; owner?: string; group?: string }, before: PathState): PathState {
  const kept = before.type === 'file' ? before : undefined;
  const base: PathState = {
    type: 'file',
    ...(kept?.uid !== undefined ? { uid: kept.uid } : {}),
    ...(kept?.gid !== undefined ? { gid: kept.gid } : {}),
    ...(kept?.user !== undefined ? { user: kept.user } : {}),
    ...(kept?.group !== undefined ? { group: kept.group } : {}),
    mode: Number.parseInt(attrs.mode, 8),
    ...(Buffer.isBuffer(content) ? { size: content.length, sha256: sha256Once(content), content } : { size: content.size, sha256: content.sha256 }),
    pending: true,
  };
  return withIds(base, attrs.owner, attrs.group);
}

/** What fixAttributes changes: the wanted mode / owner / group. */
export function attributesPatch(want: Attributes): AttributePatch {
  const o = ids(want.owner, undefined, undefined);
  const g = ids(want.group, undefined, undefined);
  return {
    ...(want.mode !== undefined ? { mode: Number.parseInt(want.mode, 8) } : {}),
    ...(o.name !== undefined ? { user: o.name } : {}),
    ...(o.num !== undefined ? { uid: o.num } : {}),
    ...(g.name !== undefined ? { group: g.name } : {}),
    ...(g.num !== undefined ? { gid: g.num } : {}),
  };
}

/** The effect of fixAttributes on `path`. */
export function attributesEffect(path: string, want: Attributes): PathEffect {
  return { path, kind: 'attributes', attributes: attributesPatch(want) };
}

/**
 * A path's state after earlier steps' effects (see ChangePlan.effects): the last whole
 * state replaces what was read, attribute changes apply on top (a name given for an
 * owner drops a numeric id read before, and the other way round, unless both are known).
 */
export function applyEffects(read: PathState, effects: readonly PathEffect[]): PathState {
  let st = read;
  for (const e of effects) {
    if (e.kind === 'state') st = e.state;
    else if (e.kind === 'attributes') {
      const a = e.attributes;
      const owner = a.user !== undefined || a.uid !== undefined;
      const group = a.group !== undefined || a.gid !== undefined;
      const { user, uid, group: grp, gid, ...rest } = st;
      st = {
        ...rest,
        ...(owner ? {} : { ...(user !== undefined ? { user } : {}), ...(uid !== undefined ? { uid } : {}) }),
        ...(group ? {} : { ...(grp !== undefined ? { group: grp } : {}), ...(gid !== undefined ? { gid } : {}) }),
        ...a,
        pending: true,
      };
    }
  }
  return st;
}

/** Nothing left at the path. */
export const PREDICTED_ABSENT: PathState = { type: 'absent', pending: true };

