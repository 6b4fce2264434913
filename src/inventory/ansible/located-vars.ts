import type { LocatedVars } from './model.ts';

/** The vars without the keys in `drop` (and their locations, nested ones too). */
export function withoutKeys(layer: LocatedVars, drop: (key: string) => boolean): LocatedVars {
  const vars = Object.fromEntries(Object.entries(layer.vars).filter(([k]) => !drop(k)));
  const locations = new Map([...layer.locations].filter(([k]) => !drop(k.split('.')[0]!)));
  return { vars, locations };
}
