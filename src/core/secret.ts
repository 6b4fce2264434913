/**
 * A value that must never appear in logs, diffs, reports or JSON.
 * Every Secret constructed registers its text with the process-wide mask, so any
 * output path that calls `mask()` hides it, even if it was interpolated somewhere.
 */
const REGISTRY: unique symbol = Symbol.for('cairn.Secret.registry');
/** One registry per process, shared by every copy of this module loaded (a global cairn and a project's own). */
const registry: Set<string> = ((globalThis as { [REGISTRY]?: Set<string> })[REGISTRY] ??= new Set<string>());

/** The brand every Secret carries, shared by every copy of this module loaded. */
const BRAND: unique symbol = Symbol.for('cairn.Secret');

/** Is `v` a Secret, from this copy of cairn or another one loaded in the same process? */
export function isSecret(v: unknown): v is Secret {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as { [BRAND]?: unknown; reveal?: unknown };
  return s[BRAND] === true && typeof s.reveal === 'function';
}

export const MASK = '********';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    if (value.length > 0) registry.add(value);
  }
  /** The real value: only for building commands and file contents. */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return MASK;
  }
  toJSON(): string {
    return MASK;
  }
  get [BRAND](): true {
    return true;
  }
  /** `instanceof` accepts a Secret of another copy of this module too. */
  static [Symbol.hasInstance](v: unknown): v is Secret {
    return isSecret(v);
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret(${MASK})`;
  }
}

/** Replace every registered secret value in `text` with the mask. Longest first. */
export function mask(text: string): string {
  if (registry.size === 0 || text.length === 0) return text;
  let out = text;
  for (const s of [...registry].sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) out = out.split(s).join(MASK);
  }
  return out;
}

/** Deeply mask a JSON-able value (for --json reports). */
export function maskDeep<T>(value: T): T {
  return JSON.parse(mask(JSON.stringify(value))) as T;
}
