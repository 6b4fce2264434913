import type { HelperOptions } from 'handlebars';
import { hclLiteral } from './hcl.ts';

/** A helper was used wrongly; carries the helper's position in the template. */
export class HelperError extends Error {
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly fix: string;
  readonly helper: string;
  /** Set when the argument at this index is undefined (a missing variable). */
  readonly undefinedArg: number | undefined;
  constructor(helper: string, message: string, fix: string, options: HelperOptions | undefined, undefinedArg?: number) {
    super(`helper '${helper}': ${message}`);
    this.name = 'HelperError';
    this.fix = fix;
    this.helper = helper;
    this.undefinedArg = undefinedArg;
    const loc = (options as { loc?: { start?: { line?: number; column?: number } } } | undefined)?.loc?.start;
    this.line = loc?.line;
    this.column = loc?.column === undefined ? undefined : loc.column + 1;
  }
}

type Helper = (...args: unknown[]) => unknown;

/** Handlebars passes its options object last: split it from the real arguments. */
function split(args: unknown[]): { params: unknown[]; options: HelperOptions } {
  return { params: args.slice(0, -1), options: args[args.length - 1] as HelperOptions };
}

function need(helper: string, value: unknown, options: HelperOptions, usage: string, index = 0): void {
  if (value === undefined) {
    throw new HelperError(helper, 'its argument is not defined', `define the variable, or give a fallback: ${usage}`, options, index);
  }
}

const json: Helper = (...args) => {
  const { params, options } = split(args);
  const [value, indent] = params;
  need('json', value, options, '{{json (default x null)}}');
  return JSON.stringify(value, null, typeof indent === 'number' ? indent : undefined);
};

const hcl: Helper = (...args) => {
  const { params, options } = split(args);
  need('hcl', params[0], options, '{{hcl (default x "")}}');
  try {
    return hclLiteral(params[0]);
  } catch (err) {
    throw new HelperError('hcl', (err as Error).message, 'pass a string, number, boolean, list or map', options);
  }
};

const join: Helper = (...args) => {
  const { params, options } = split(args);
  const [list, sep] = params;
  need('join', list, options, '{{join (default servers (array)) ", "}}');
  if (!Array.isArray(list)) {
    throw new HelperError('join', `expected a list, got ${typeof list}`, 'write the variable as a YAML list, e.g. servers: [a, b]', options);
  }
  if (list.some((x) => x !== null && typeof x === 'object')) {
    throw new HelperError('join', 'the list holds maps or lists', 'join a list of plain values, or use {{json list}}', options);
  }
  return list.join(typeof sep === 'string' ? sep : ', ');
};

const eq: Helper = (...args) => {
  const { params } = split(args);
  return params[0] === params[1];
};

const fallback: Helper = (...args) => {
  const { params } = split(args);
  const [value, otherwise] = params;
  return value === undefined || value === null || value === '' ? otherwise : value;
};

const indent: Helper = function (this: unknown, ...args) {
  const { params, options } = split(args);
  const [n, given] = params;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new HelperError('indent', `the first argument must be a number of spaces, got ${String(n)}`, 'write {{indent 4 text}} or {{#indent 4}}...{{/indent}}', options);
  }
  const text = given !== undefined ? given : options.fn ? options.fn(this) : undefined;
  need('indent', text, options, '{{indent 4 (default text "")}}', 1);
  const pad = ' '.repeat(n);
  return String(text)
    .split('\n')
    .map((line) => (line === '' ? line : pad + line))
    .join('\n');
};

const caseHelper =
  (name: 'upper' | 'lower'): Helper =>
  (...args) => {
    const { params, options } = split(args);
    need(name, params[0], options, `{{${name} (default x "")}}`);
    const s = String(params[0]);
    return name === 'upper' ? s.toUpperCase() : s.toLowerCase();
  };

/** cairn's template helpers, by name. */
export const HELPERS: Readonly<Record<string, Helper>> = {
  json,
  hcl,
  join,
  eq,
  default: fallback,
  indent,
  upper: caseHelper('upper'),
  lower: caseHelper('lower'),
};

/** Handlebars' own helpers. */
export const BUILTIN_HELPERS = ['if', 'unless', 'each', 'with', 'lookup', 'log'] as const;
