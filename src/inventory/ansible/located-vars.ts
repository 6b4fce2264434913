import type { SourceLocation } from '../../core/errors.ts';
import { mergeVars } from '../merge-vars.ts';
import type { LocatedVars } from './model.ts';

/** Layers merged the cairn way (maps key by key, later wins), with their locations. */
export function mergeLocated(layers: readonly LocatedVars[]): LocatedVars {
  const locations = new Map<string, SourceLocation>();
  for (const l of layers) for (const [k, loc] of l.locations) locations.set(k, loc);
  return { vars: mergeVars(layers.map((l) => l.vars)), locations };
}

/** The vars without the keys in `drop` (and their locations, nested ones too). */
export function withoutKeys(layer: LocatedVars, drop: (key: string) => boolean): LocatedVars {
  const vars = Object.fromEntries(Object.entries(layer.vars).filter(([k]) => !drop(k)));
  const locations = new Map([...layer.locations].filter(([k]) => !drop(k.split('.')[0]!)));
  return { vars, locations };
}
