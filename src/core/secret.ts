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

/** The mask alone, not part of a longer run of `*` (a banner, a separator line). */
const COERCED = /(?<!\*)\*{8}(?!\*)/;

/** The display of the next Secret constructed by secretText (module-private hand-over). */
let composedDisplay: string | undefined;

export class Secret {
  readonly #value: string;
  /** What shows instead of the value: the mask, or for secretText the text with its secrets masked. */
  readonly #display: string;
  constructor(value: string) {
    this.#value = value;
    const display = composedDisplay;
    composedDisplay = undefined;
    this.#display = display ?? MASK;
    // a composed text is not registered as a whole: its secrets are, so mask() shows its plain parts
    if (display === undefined && value.length > 0) registry.add(value);
  }
  /** The real value: only for building commands and file contents. */
  reveal(): string {
    return this.#value;
  }
  /**
   * The mask (for secretText: the text with the mask for each secret). Text built
   * with `'pw=' + secret` therefore holds the mask, not the value, and operations
   * refuse it (see holdsCoercedSecret).
   */
  toString(): string {
    return this.#display;
  }
  toJSON(): string {
    return this.#display;
  }
  get [BRAND](): true {
    return true;
  }
  /** `instanceof` accepts a Secret of another copy of this module too. */
  static [Symbol.hasInstance](v: unknown): v is Secret {
    return isSecret(v);
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret(${this.#display})`;
  }
}

/** What secretText accepts between its literal parts. */
export type SecretTextValue = Secret | string | number | bigint | boolean;

/**
 * A Secret made of text and secrets, for a value that must reach the host whole
 * (`line: secretText\`password=${ctx.vars.pw}\``): reveal() is the text with the
 * real values, toString() the text with the mask in their place. The secrets
 * inside stay registered, so mask() hides them wherever the text ends up.
 * Without any Secret inside, the whole text is treated as a secret. Values are
 * SecretTextValue, checked when it runs (so `ctx.vars.pw`, typed unknown, fits).
 */
export function secretText(strings: TemplateStringsArray, ...values: readonly unknown[]): Secret {
  let text = strings[0] ?? '';
  let display = text;
  values.forEach((v, i) => {
    if (isSecret(v)) {
      text += v.reveal();
      display += v.toString();
    } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') {
      text += String(v);
      display += String(v);
    } else {
      throw new TypeError(`secretText: value ${i + 1} is ${v === null ? 'null' : typeof v}; fix: interpolate a Secret, a string or a number`);
    }
    text += strings[i + 1] ?? '';
    display += strings[i + 1] ?? '';
  });
  if (!values.some((v) => isSecret(v))) return new Secret(text);
  composedDisplay = display;
  return new Secret(text);
}

/**
 * True when `text` holds the mask on its own (not inside a longer run of `*`):
 * what a Secret becomes when it is turned into a string by accident
 * (`'pw=' + secret`, `${secret}`). Written to a host, it would replace the value.
 */
export function holdsCoercedSecret(text: string): boolean {
  return COERCED.test(text);
}

/** Answers of bytesHoldSecret, per Buffer, for the registry's size when asked (it only grows). */
const checkedBytes = new WeakMap<Buffer, { size: number; holds: boolean }>();

/**
 * Do these bytes hold a registered secret value? Searched as bytes, not decoded to
 * text (a 30 MiB binary sent to 30 hosts is searched once, not decoded 30 times).
 */
export function bytesHoldSecret(bytes: Buffer): boolean {
  const hit = checkedBytes.get(bytes);
  if (hit && hit.size === registry.size) return hit.holds;
  let holds = false;
  for (const s of registry) {
    if (bytes.includes(s)) {
      holds = true;
      break;
    }
  }
  checkedBytes.set(bytes, { size: registry.size, holds });
  return holds;
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
