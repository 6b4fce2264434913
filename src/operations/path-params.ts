import { paramError } from './kit.ts';
import type { Attributes } from './attributes.ts';

/**
 * Parameter checks of the operations that take paths (file, directory, symlink,
 * line, archive, command guards, ...): absolute paths, octal modes, owners and
 * groups, booleans. Each throws a paramError naming the op, the param and the fix.
 */

/** Throws unless `value` is an absolute path; returns it normalised (no `//`, no trailing `/`). */
export function checkAbsPath(kind: string, id: string, param: string, value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/')) {
    throw paramError(kind, id, param, `must be an absolute path, got ${JSON.stringify(value)}`, 'give a path starting with /');
  }
  if (value.includes('\0')) throw paramError(kind, id, param, 'contains a NUL byte', 'remove it');
  const parts = value.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '.' || p === '..')) {
    throw paramError(kind, id, param, `must not contain . or .. components, got ${JSON.stringify(value)}`, 'give the resolved absolute path');
  }
  return `/${parts.join('/')}`;
}

/**
 * Mode as an octal string ('0644', '644', '1777') -> '0644'. Numbers are refused:
 * YAML reads `0644` as the decimal 644, so a number cannot be trusted to mean octal.
 */
export function checkMode(kind: string, id: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^0?[0-7]{3,4}$/.test(value)) {
    throw paramError(kind, id, 'mode', `must be an octal mode string such as '0644', got ${JSON.stringify(value)}`, "write the mode quoted, e.g. mode: '0644'");
  }
  return Number.parseInt(value, 8).toString(8).padStart(4, '0');
}

const OWNER = /^(?:[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?|\d{1,10})$/;

/** A user or group name, or a numeric id. */
export function checkOwner(kind: string, id: string, param: 'owner' | 'group', value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return String(value);
  if (typeof value !== 'string' || !OWNER.test(value)) {
    throw paramError(kind, id, param, `must be a ${param === 'owner' ? 'user' : 'group'} name or numeric id, got ${JSON.stringify(value)}`, 'use letters, digits, _ . - (or a number)');
  }
  return value;
}

export function checkAttributes(kind: string, id: string, p: { mode?: unknown; owner?: unknown; group?: unknown }): Attributes {
  return { mode: checkMode(kind, id, p.mode), owner: checkOwner(kind, id, 'owner', p.owner), group: checkOwner(kind, id, 'group', p.group) };
}

export function checkBoolean(kind: string, id: string, param: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw paramError(kind, id, param, `must be true or false, got ${JSON.stringify(value)}`, `write ${param}: true or leave it out`);
}

/** `state`: present (the default) or absent. */
export function checkState(kind: string, id: string, value: unknown): 'present' | 'absent' {
  const state = value;
  if (state !== 'present' && state !== 'absent') {
    throw paramError(kind, id, 'state', `must be present or absent, got ${JSON.stringify(state)}`, 'write state: present or state: absent');
  }
  return state;
}
