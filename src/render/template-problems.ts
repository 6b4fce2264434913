import type { InputProblem } from '../core/errors.ts';
import { HelperError } from './helpers.ts';
import { allPaths, callArgAt, pathAt } from './template-ast.ts';
import { syntaxProblem } from './template-syntax.ts';

/** Fix for a variable a template uses but no vars define. */
export function missingVarFix(name: string): string {
  return `define "${name}" in vars, group vars, host vars or the role defaults (or use {{default ${name} "..."}} / {{#if ${name}}})`;
}

/**
 * An error thrown while rendering as a problem: a strict-mode missing variable
 * (with the full dotted name, found in the AST), a helper misuse, or anything
 * else (file only).
 */
export function renderProblem(
  err: unknown,
  file: string,
  ast: unknown,
  source: string,
  context: Record<string, unknown>,
): InputProblem & { missing?: string } {
  if (err instanceof HelperError) {
    const arg = err.undefinedArg !== undefined && err.line && err.column ? callArgAt(ast, err.line, err.column - 1, err.undefinedArg) : undefined;
    if (arg !== undefined) {
      return {
        location: { file, line: err.line!, column: err.column! },
        message: `helper '${err.helper}': variable "${arg}" is not defined${missingParent(context, arg)}`,
        fix: missingVarFix(arg),
        missing: arg,
      };
    }
    return { location: { file, ...(err.line ? { line: err.line } : {}), ...(err.column ? { column: err.column } : {}) }, message: err.message, fix: err.fix };
  }
  const e = err as { message?: string; lineNumber?: number; column?: number };
  const message = String(e.message ?? err);
  const strict = /^"([^"]*)" not defined in (.*) - \d+:\d+$/.exec(message);
  if (strict && e.lineNumber !== undefined && e.column !== undefined) {
    const path = pathAt(ast, e.lineNumber, e.column);
    const name = path?.name ?? strict[1]!;
    const location = { file, line: e.lineNumber, column: e.column + 1 };
    if (path?.helperCall) return { location, message: `unknown helper '${name}'`, fix: 'use one of the helpers listed in docs/inventory.md' };
    const parent = strict[2] === 'null' || strict[2] === 'undefined' ? missingParent(context, name) : '';
    return { location, message: `variable "${name}" is not defined${parent}`, fix: missingVarFix(name), missing: name };
  }
  if (e.lineNumber !== undefined) return syntaxProblem(err, file, source);
  const nullRead = /Cannot read properties of (?:undefined|null) \(reading '([^']*)'\)/.exec(message);
  const culprit = nullRead ? pathThroughMissingMap(ast, context, nullRead[1]!) : undefined;
  if (culprit) {
    return {
      location: { file, line: culprit.line, column: culprit.column + 1 },
      message: `variable "${culprit.name}" is not defined${missingParent(context, culprit.name)}`,
      fix: missingVarFix(culprit.name),
      missing: culprit.name,
    };
  }
  const inText = /Cannot use 'in' operator to search for '([^']*)'/.exec(message);
  if (inText) {
    return {
      location: { file },
      message: `cannot render the template: "${inText[1]}" is looked up in a text value`,
      fix: `a variable the template walks into (x.${inText[1]}) is text: write it as a map in the vars`,
    };
  }
  return {
    location: { file },
    message: `cannot render the template: ${message}`,
    fix: 'check that every map the template walks into is defined and not empty (null)',
  };
}

/** ' ("consul" is missing)' or ' ("consul" is null)' for the first absent map of a dotted name. */
function missingParent(context: Record<string, unknown>, name: string): string {
  const parts = name.split('.');
  let cur: unknown = context;
  for (let i = 0; i < parts.length - 1; i++) {
    if (cur === null || typeof cur !== 'object') return '';
    const key = parts[i]!;
    const here = parts.slice(0, i + 1).join('.');
    if (!Object.prototype.hasOwnProperty.call(cur, key)) return ` ("${here}" is missing)`;
    cur = (cur as Record<string, unknown>)[key];
    if (cur === null || cur === undefined) return ` ("${here}" is ${cur === null ? 'null' : 'missing'})`;
  }
  return '';
}

/**
 * Helper arguments and {{#if a.b}} read `b` from a missing `a` without a
 * position (a TypeError): the first path that reads `prop` through a map
 * missing from the context is the one.
 */
function pathThroughMissingMap(ast: unknown, context: Record<string, unknown>, prop: string) {
  return allPaths(ast).find((p) => {
    const i = p.parts.indexOf(prop);
    if (i < 1) return false;
    let cur: unknown = context;
    for (const part of p.parts.slice(0, i)) {
      if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, part)) return true;
      cur = (cur as Record<string, unknown>)[part];
    }
    return cur === null || cur === undefined;
  });
}
