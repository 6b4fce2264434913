import { quote } from './quote.ts';
import { type Secret, isSecret, mask } from '../core/secret.ts';

/** The brand every ShellCommand carries, shared by every copy of this module loaded. */
const BRAND: unique symbol = Symbol.for('cairn.ShellCommand');
/** Only this module holds it: the constructor refuses to run without it. */
const TOKEN: unique symbol = Symbol('ShellCommand constructor');

/** Is `v` a ShellCommand, from this copy of cairn or another one loaded in the same process? */
export function isShellCommand(v: unknown): v is ShellCommand {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as { [BRAND]?: unknown; text?: unknown; display?: unknown };
  return c[BRAND] === true && typeof c.text === 'string' && typeof c.display === 'string';
}

let make: (text: string, display: string) => ShellCommand;

/**
 * A shell command for the target's /bin/sh. It can only be made by the `sh` tag
 * (or composed from other ShellCommands), so every interpolated value is quoted:
 * the constructor is private and needs a token only this module has.
 */
export class ShellCommand {
  /** The text sent to the host (may contain secrets). */
  readonly text: string;
  /** The text for logs and errors: secrets masked. */
  readonly display: string;
  private constructor(token: typeof TOKEN, text: string, display: string) {
    if (token !== TOKEN) throw new TypeError('ShellCommand: build commands with the sh tag');
    this.text = text;
    const shown = mask(display);
    // one string for both when nothing is masked (a batch script is kept per host while it runs)
    this.display = shown === text ? text : shown;
  }
  static {
    make = (text, display) => new ShellCommand(TOKEN, text, display);
  }
  get [BRAND](): true {
    return true;
  }
  /** `instanceof` accepts a ShellCommand of another copy of this module too. */
  static [Symbol.hasInstance](v: unknown): v is ShellCommand {
    return isShellCommand(v);
  }
  toString(): string {
    return this.display;
  }
}

export type ShValue =
  | string
  | number
  | bigint
  | boolean
  | Secret
  | ShellCommand
  | readonly ShValue[];

function render(v: ShValue, forDisplay: boolean): string {
  if (isShellCommand(v)) return forDisplay ? v.display : v.text;
  if (isSecret(v)) return forDisplay ? quote(v.toString()) : quote(v.reveal());
  if (Array.isArray(v)) return v.map((x) => render(x, forDisplay)).join(' ');
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return quote(String(v));
  throw new TypeError(`sh: cannot interpolate a value of type ${typeof v}`);
}

/**
 * Tagged template: literal text is kept, each `${}` becomes one quoted word
 * (arrays become several quoted words, ShellCommands are embedded as built).
 *
 *   sh`install -m ${mode} ${src} ${dest}`
 */
export function sh(strings: TemplateStringsArray, ...values: ShValue[]): ShellCommand {
  let text = strings[0] ?? '';
  let display = strings[0] ?? '';
  values.forEach((v, i) => {
    text += render(v, false) + (strings[i + 1] ?? '');
    display += render(v, true) + (strings[i + 1] ?? '');
  });
  return make(text, display);
}

/** Join commands with a separator token such as '&&', ';' or '\n' (a fixed set, never user text). */
export function joinCommands(cmds: readonly ShellCommand[], sep: '&&' | ';' | '\n' | '||' | '|' = '\n'): ShellCommand {
  const s = sep === '\n' ? '\n' : ` ${sep} `;
  return make(cmds.map((c) => c.text).join(s), cmds.map((c) => c.display).join(s));
}

/** A whole command as ONE quoted word, e.g. for `sh -c ${asWord(cmd)}` or `sudo sh -c`. */
export function asWord(cmd: ShellCommand): ShellCommand {
  return make(quote(cmd.text), quote(cmd.display));
}
