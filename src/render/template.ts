/// <reference types="handlebars" preserve="true" />
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import Handlebars from 'handlebars';
import { InvalidInputError, type InputProblem } from '../core/errors.ts';
import { BUILTIN_HELPERS, HELPERS } from './helpers.ts';
import { revealSecrets } from './reveal.ts';
import { staticProblems } from './template-ast.ts';
import { renderProblem } from './template-problems.ts';
import { syntaxProblem } from './template-syntax.ts';

/** Rendered text, and the secret values it contains (already registered for masking). */
export interface Rendered {
  text: string;
  secrets: string[];
}

/** A parsed and compiled template. */
export interface CompiledTemplate {
  /** The file name shown in problems. */
  readonly file: string;
  readonly source: string;
  readonly ast: hbs.AST.Program;
  /** Raw Handlebars call: throws Handlebars errors. Prefer render(). */
  readonly run: HandlebarsTemplateDelegate;
}

/** Private instance: cairn's helpers, nothing registered globally. */
const hb = Handlebars.create();
for (const [name, fn] of Object.entries(HELPERS)) hb.registerHelper(name, fn);

export const HELPER_NAMES: readonly string[] = [...BUILTIN_HELPERS, ...Object.keys(HELPERS)];

const COMPILE_OPTIONS = { strict: true, noEscape: true } as const;

/**
 * Parse and compile template text. Throws InvalidInputError on a syntax
 * error, an unknown helper, a partial or a block without its argument.
 */
export function compileTemplateSource(source: string, file: string): CompiledTemplate {
  let ast: hbs.AST.Program;
  try {
    ast = hb.parse(source);
  } catch (err) {
    throw new InvalidInputError([syntaxProblem(err, file, source)]);
  }
  const problems = staticProblems(ast, file, HELPER_NAMES);
  if (problems.length > 0) throw new InvalidInputError(problems);
  return { file, source, ast, run: hb.compile(ast, COMPILE_OPTIONS) };
}

const cache = new Map<string, { mtimeMs: number; size: number; template: CompiledTemplate }>();

/** Compile a template file; cached by absolute path, modification time and size. */
export function compileTemplate(file: string): CompiledTemplate {
  const abs = resolve(file);
  let stat;
  try {
    stat = statSync(abs);
  } catch (err) {
    throw new InvalidInputError([{ location: { file }, message: `cannot read the template: ${(err as Error).message}`, fix: 'check the template name and that the file exists' }]);
  }
  const hit = cache.get(abs);
  if (hit && hit.mtimeMs === stat.mtimeMs && hit.size === stat.size) return hit.template;
  const template = compileTemplateSource(readFileSync(abs, 'utf8'), file);
  cache.set(abs, { mtimeMs: stat.mtimeMs, size: stat.size, template });
  return template;
}

/** Forget compiled templates (tests). */
export function clearTemplateCache(): void {
  cache.clear();
}

/**
 * Render a compiled template. Secrets in `context` render as their real
 * value; they are listed in the result. Throws InvalidInputError with file and
 * line for a missing variable (strict mode) or a misused helper.
 */
export function render(template: CompiledTemplate, context: Record<string, unknown>): Rendered {
  const { value, secrets } = revealSecrets(context);
  let text: string;
  try {
    text = template.run(value);
  } catch (err) {
    const { missing: _missing, ...problem } = renderProblem(err, template.file, template.ast, template.source, value);
    throw new InvalidInputError([problem]);
  }
  const objectProblem = objectAsText(template, text);
  if (objectProblem) throw new InvalidInputError([objectProblem]);
  return { text, secrets: secrets.filter((s) => text.includes(s)) };
}

/** Render a template file with `context` (see render()). */
export function renderTemplate(file: string, context: Record<string, unknown>): Rendered {
  return render(compileTemplate(file), context);
}

/** Render a template file to text: the engine's TemplateRenderer. */
export function renderTemplateFile(file: string, context: Record<string, unknown>): string {
  return renderTemplate(file, context).text;
}

/** Render template text (inline templates, tests). */
export function renderTemplateSource(source: string, file: string, context: Record<string, unknown>): Rendered {
  return render(compileTemplateSource(source, file), context);
}

const MAX_CHECK_ROUNDS = 100;

/**
 * Dry-render a template with sample values (vars + stand-in facts) before any
 * connection. Returns every problem found instead of throwing: syntax errors,
 * and each missing variable (rendering is retried with a placeholder for
 * each one found, until no new one appears).
 */
export function checkTemplate(file: string, sampleContext: Record<string, unknown>): InputProblem[] {
  let template: CompiledTemplate;
  try {
    template = compileTemplate(file);
  } catch (err) {
    if (err instanceof InvalidInputError) return err.problems;
    throw err;
  }
  return checkCompiled(template, sampleContext);
}

/** checkTemplate() for template text. */
export function checkTemplateSource(source: string, file: string, sampleContext: Record<string, unknown>): InputProblem[] {
  try {
    return checkCompiled(compileTemplateSource(source, file), sampleContext);
  } catch (err) {
    if (err instanceof InvalidInputError) return err.problems;
    throw err;
  }
}

function checkCompiled(template: CompiledTemplate, sampleContext: Record<string, unknown>): InputProblem[] {
  const problems: InputProblem[] = [];
  const { value: context } = revealSecrets(sampleContext);
  const seen = new Set<string>();
  for (let round = 0; round < MAX_CHECK_ROUNDS; round++) {
    let text: string;
    try {
      text = template.run(context);
    } catch (err) {
      const { missing, ...problem } = renderProblem(err, template.file, template.ast, template.source, context);
      const key = `${problem.location.line}:${problem.location.column}:${problem.message}`;
      if (seen.has(key)) break;
      seen.add(key);
      problems.push(problem);
      if (missing === undefined || !setPlaceholder(context, missing)) break;
      continue;
    }
    const objectProblem = objectAsText(template, text);
    if (objectProblem) problems.push(objectProblem);
    break;
  }
  return problems;
}

/** Give a missing dotted variable an empty value so rendering can go on. */
function setPlaceholder(context: Record<string, unknown>, name: string): boolean {
  const parts = name.replace(/^(this\.|\.\/)/, '').split(/[./]/);
  if (parts.some((p) => p === '' || p === '..' || p === 'this' || p.startsWith('@'))) return false;
  let cur: Record<string, unknown> = context;
  for (const part of parts.slice(0, -1)) {
    const next = cur[part];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      const created: Record<string, unknown> = {};
      Object.defineProperty(cur, part, { value: created, enumerable: true, writable: true, configurable: true });
      cur = created;
    } else cur = next as Record<string, unknown>;
  }
  Object.defineProperty(cur, parts[parts.length - 1]!, { value: '', enumerable: true, writable: true, configurable: true });
  return true;
}

/** A map written with {{x}} renders as "[object Object]": always a template bug. */
function objectAsText(template: CompiledTemplate, text: string): InputProblem | undefined {
  const at = text.indexOf('[object Object]');
  if (at < 0 || template.source.includes('[object Object]')) return undefined;
  const outputLine = text.slice(0, at).split('\n').length;
  return {
    location: { file: template.file },
    message: `a map was written as text ("[object Object]" on line ${outputLine} of the output)`,
    fix: 'write maps with {{json x}} or {{hcl x}}, or pick one value: {{x.key}}',
  };
}
