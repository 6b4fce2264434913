import { quote } from './quote.ts';
import { Secret, mask } from '../core/secret.ts';

/**
 * A shell command for the target's /bin/sh. It can only be made by the `sh` tag
 * (or composed from other ShellCommands), so every interpolated value is quoted.
 */
export class ShellCommand {
  /** The text sent to the host (may contain secrets). */
  readonly text: string;
  /** The text for logs and errors: secrets masked. */
  readonly display: string;
  /** @internal use the `sh` tag */
  constructor(text: string, display: string) {
    this.text = text;
    this.display = mask(display);
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
  if (v instanceof ShellCommand) return forDisplay ? v.display : v.text;
  if (v instanceof Secret) return forDisplay ? quote(v.toString()) : quote(v.reveal());
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
  return new ShellCommand(text, display);
}

/** Join commands with a separator token such as '&&', ';' or '\n' (a fixed set, never user text). */
export function joinCommands(cmds: readonly ShellCommand[], sep: '&&' | ';' | '\n' | '||' | '|' = '\n'): ShellCommand {
  const s = sep === '\n' ? '\n' : ` ${sep} `;
  return new ShellCommand(cmds.map((c) => c.text).join(s), cmds.map((c) => c.display).join(s));
}

/** A whole command as ONE quoted word, e.g. for `sh -c ${asWord(cmd)}` or `sudo sh -c`. */
export function asWord(cmd: ShellCommand): ShellCommand {
  return new ShellCommand(quote(cmd.text), quote(cmd.display));
}
