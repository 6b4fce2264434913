import { quote } from './quote.ts';

/** Only this module holds it: the constructor refuses to run without it. */
const TOKEN: unique symbol = Symbol('Script constructor');
let make: (text: string) => Script;

/**
 * The text of a shell script file (init script, conf.d, s6 run script), the
 * file-sized sibling of ShellCommand: made by the `script` tag only, so every
 * interpolated value is quoted, or written by one of the named parts below.
 */
export class Script {
  readonly text: string;
  private constructor(token: typeof TOKEN, text: string) {
    if (token !== TOKEN) throw new TypeError('Script: build scripts with the script tag');
    this.text = text;
  }
  static {
    make = (text) => new Script(TOKEN, text);
  }
  toString(): string {
    return this.text;
  }
}

export type ScriptValue = string | number | Script | readonly ScriptValue[];

function render(v: ScriptValue): string {
  if (v instanceof Script) return v.text;
  if (Array.isArray(v)) return v.map(render).join(' ');
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number') return quote(String(v));
  throw new TypeError(`script: cannot interpolate a value of type ${typeof v}`);
}

/**
 * Tagged template: literal text is kept, each `${}` becomes one single-quoted
 * word (arrays several words, Scripts are embedded as built).
 *
 *   script`exec ${[command, ...args]}\n`
 */
export function script(strings: TemplateStringsArray, ...values: ScriptValue[]): Script {
  let text = strings[0] ?? '';
  values.forEach((v, i) => {
    text += render(v) + (strings[i + 1] ?? '');
  });
  return make(text);
}

/** Scripts joined with a fixed separator (never user text): one per line by default, `''` to concatenate. */
export function joinScripts(parts: readonly Script[], sep: '\n' | '' | ' ' = '\n'): Script {
  return make(parts.map((p) => p.text).join(sep));
}

const escapeInDoubleQuotes = (text: string) => text.replace(/[\\"$`]/g, (c) => `\\${c}`);

/** One word in double quotes, `\ " $ \`` escaped: `"text"` (OpenRC's conf.d style). A Script is quoted as its text. */
export function doubleQuoted(v: string | Script): Script {
  return make(`"${escapeInDoubleQuotes(typeof v === 'string' ? v : v.text)}"`);
}

/** Text for inside a double-quoted string whose quotes are in the literal text: `echo "${inDoubleQuotes(x)} failed"`. */
export function inDoubleQuotes(text: string): Script {
  return make(escapeInDoubleQuotes(text));
}

/** Text for the rest of a `#` comment line, as it is; a line break (which would end the comment) is refused. */
export function comment(text: string): Script {
  if (/[\n\r\0]/.test(text)) throw new Error(`a script comment cannot hold a line break, got ${JSON.stringify(text)}`);
  return make(text);
}

/** A variable name for `export NAME=...`: letters, digits and _, not starting with a digit; anything else is refused. */
export function varName(name: string): Script {
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a shell variable name: ${JSON.stringify(name)}`);
  return make(name);
}
