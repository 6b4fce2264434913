import { STOP_SIGNALS } from './description.ts';

/** Only this module holds it: the constructor refuses to run without it. */
const TOKEN: unique symbol = Symbol('UnitValue constructor');
let make: (text: string) => UnitValue;

/**
 * The value of one directive in a systemd unit file, escaped for its kind
 * (systemd.syntax(7), systemd.unit(5) "Specifiers", systemd.service(5)
 * "Command lines", systemd.exec(7) Environment=). Made only by `unitValue.*`.
 *
 * Every kind refuses a line break (`\n`, `\r`: the end of the directive) and NUL.
 */
export class UnitValue {
  readonly text: string;
  private constructor(token: typeof TOKEN, text: string) {
    if (token !== TOKEN) throw new TypeError('UnitValue: build values with unitValue.*');
    this.text = text;
  }
  static {
    make = (text) => new UnitValue(TOKEN, text);
  }
}

/** Values written as they are: a fixed set, never user text. */
export const UNIT_KEYWORDS = ['simple', 'notify', 'control-group', 'mixed', 'process', 'on-failure', 'null', 'infinity', ...STOP_SIGNALS] as const;
export type UnitKeyword = (typeof UNIT_KEYWORDS)[number];

/** Variables systemd itself sets that a command line may use (`$MAINPID`, split into words). */
export const UNIT_VARIABLES = ['MAINPID'] as const;
export interface UnitVariable {
  readonly variable: (typeof UNIT_VARIABLES)[number];
}

function oneLine(what: string, s: string): string {
  if (typeof s !== 'string') throw new TypeError(`systemd unit ${what}: must be text, got ${typeof s}`);
  if (/[\n\r\0]/.test(s)) throw new Error(`systemd unit ${what}: a line break or NUL cannot be written in a unit file, got ${JSON.stringify(s)}`);
  return s;
}

/** `%` starts a specifier everywhere cairn writes user text. */
const specifiers = (s: string) => s.replace(/%/g, '%%');

/**
 * One word of a command line (`dollars`: `$` → `$$`, systemd expands `$VAR` there) or of an
 * Environment= list (no variable expansion: `$` stays): `%` → `%%`, double-quoted (with `\ "` escaped) unless plain.
 */
function word(what: string, w: string, dollars: boolean): string {
  const spec = specifiers(oneLine(what, w));
  const esc = dollars ? spec.replace(/\$/g, '$$$$') : spec;
  return /^[A-Za-z0-9_@+=:,./-]+$/.test(esc) ? esc : `"${esc.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

const UNIT_NAME = /^[A-Za-z0-9:_.@-]+$/;
const ACCOUNT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const unitValue = {
  /** Free text (Description=): `%` doubled; no line break, no trailing backslash (that continues the line). */
  text(s: string): UnitValue {
    if (oneLine('text', s).endsWith('\\')) throw new Error(`systemd unit text: a trailing backslash would continue the line, got ${JSON.stringify(s)}`);
    return make(specifiers(s));
  },
  /** Unit names, space separated (Wants=, After=, Requires=, WantedBy=). */
  units(names: readonly string[]): UnitValue {
    for (const n of names) if (typeof n !== 'string' || !UNIT_NAME.test(n)) throw new Error(`systemd unit: not a unit name: ${JSON.stringify(n)}`);
    return make(names.join(' '));
  },
  /** A user or group name (User=, Group=). */
  account(name: string): UnitValue {
    if (typeof name !== 'string' || !ACCOUNT.test(name)) throw new Error(`systemd unit: not a user or group name: ${JSON.stringify(name)}`);
    return make(name);
  },
  /** A whole number (RestartSec=, LimitNOFILE=, OOMScoreAdjust=, ...). */
  int(n: number): UnitValue {
    if (!Number.isSafeInteger(n)) throw new Error(`systemd unit: not a whole number: ${JSON.stringify(n)}`);
    return make(String(n));
  },
  /** One of UNIT_KEYWORDS (Type=, KillMode=, KillSignal=, Restart=, StandardInput=, infinity). */
  keyword(k: UnitKeyword): UnitValue {
    if (!(UNIT_KEYWORDS as readonly string[]).includes(k)) throw new Error(`systemd unit: unknown keyword ${JSON.stringify(k)}`);
    return make(k);
  },
  /**
   * A command line (ExecStart=, ExecReload=): an absolute program (so no
   * `-@:+!` prefix can be smuggled in) and its arguments, each one word.
   */
  exec(program: string, args: readonly (string | UnitVariable)[]): UnitValue {
    if (typeof program !== 'string' || !program.startsWith('/')) throw new Error(`systemd unit: the program must be an absolute path, got ${JSON.stringify(program)}`);
    const rest = args.map((a) => {
      if (typeof a === 'string') return word('command argument', a, true);
      if (!UNIT_VARIABLES.includes(a.variable)) throw new Error(`systemd unit: unknown variable ${JSON.stringify(a.variable)}`);
      return `$${a.variable}`;
    });
    return make([word('program', program, true), ...rest].join(' '));
  },
  /** One Environment= assignment `NAME=value`, as one word ("Variable expansion is not performed inside the strings, and $ has no special meaning", systemd.exec(7)). */
  env(name: string, value: string): UnitValue {
    if (typeof name !== 'string' || !ENV_NAME.test(name)) throw new Error(`systemd unit: not an environment variable name: ${JSON.stringify(name)}`);
    return make(word(`environment ${name}`, `${name}=${value}`, false));
  },
};
