/// <reference types="handlebars" preserve="true" />
import type { InputProblem } from '../core/errors.ts';
import { didYouMean, listChoices } from '../inventory/suggest.ts';

/** The parts of Handlebars' AST we look at (hbs.AST, loosely typed for walking). */
interface AstNode {
  type: string;
  loc?: { start: { line: number; column: number } };
  path?: AstNode & { original?: unknown };
  params?: AstNode[];
  hash?: { pairs?: AstNode[] };
  original?: unknown;
  name?: AstNode;
}

/** Visit every AST node, with its parent, depth first. */
export function walkAst(root: unknown, visit: (node: AstNode, parent: AstNode | undefined) => void): void {
  const walk = (value: unknown, parent: AstNode | undefined): void => {
    if (Array.isArray(value)) {
      for (const v of value) walk(v, parent);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const node = value as AstNode;
    if (typeof node.type === 'string') visit(node, parent);
    for (const [k, v] of Object.entries(node)) {
      if (k !== 'loc' && k !== 'strip' && v && typeof v === 'object') walk(v, typeof node.type === 'string' ? node : parent);
    }
  };
  walk(root, undefined);
}

/** Does `node` call a helper at this position (with params/hash, or as a subexpression)? */
function isCall(node: AstNode): boolean {
  if (node.type === 'SubExpression') return true;
  if (node.type !== 'MustacheStatement' && node.type !== 'BlockStatement') return false;
  return (node.params?.length ?? 0) > 0 || (node.hash?.pairs?.length ?? 0) > 0;
}

/** The path expression starting at a Handlebars position (1-based line, 0-based column). */
export function pathAt(ast: unknown, line: number, column: number): { name: string; helperCall: boolean } | undefined {
  let found: { name: string; helperCall: boolean } | undefined;
  walkAst(ast, (node, parent) => {
    if (found || node.type !== 'PathExpression' || !node.loc) return;
    if (node.loc.start.line !== line || node.loc.start.column !== column) return;
    found = { name: String(node.original), helperCall: !!parent && parent.path === node && isCall(parent) };
  });
  return found;
}

/** The name of argument `index` of the helper call starting at a position, when it is a variable. */
export function callArgAt(ast: unknown, line: number, column: number, index: number): string | undefined {
  let found: string | undefined;
  walkAst(ast, (node) => {
    if (found !== undefined || !isCall(node) || !node.loc) return;
    if (node.loc.start.line !== line || node.loc.start.column !== column) return;
    const arg = node.params?.[index];
    if (arg?.type === 'PathExpression') found = String(arg.original);
  });
  return found;
}

/** Every variable path in the template, in document order, with its position. */
export function allPaths(ast: unknown): { name: string; parts: string[]; line: number; column: number }[] {
  const out: { name: string; parts: string[]; line: number; column: number }[] = [];
  walkAst(ast, (node) => {
    if (node.type !== 'PathExpression' || !node.loc) return;
    const parts = (node as { parts?: unknown }).parts;
    if (!Array.isArray(parts)) return;
    out.push({ name: String(node.original), parts: parts.map(String), line: node.loc.start.line, column: node.loc.start.column });
  });
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

const EXACTLY_ONE_PARAM = new Set(['if', 'unless', 'each', 'with']);

/**
 * Problems visible without rendering: helpers that do not exist, partials and
 * decorators (not supported), built-in blocks without their argument.
 */
export function staticProblems(ast: unknown, file: string, helpers: readonly string[]): InputProblem[] {
  const problems: InputProblem[] = [];
  const at = (node: AstNode) => ({ file, line: node.loc?.start.line ?? 1, column: (node.loc?.start.column ?? 0) + 1 });
  walkAst(ast, (node) => {
    if (node.type === 'PartialStatement' || node.type === 'PartialBlockStatement') {
      problems.push({ location: at(node), message: 'partials ({{> name}}) are not supported', fix: 'inline the text, or use a separate template file per output file' });
      return;
    }
    if (node.type === 'Decorator' || node.type === 'DecoratorBlock') {
      problems.push({ location: at(node), message: 'decorators ({{* name}}) are not supported', fix: 'remove the decorator' });
      return;
    }
    if (!isCall(node) && !(node.type === 'BlockStatement' && EXACTLY_ONE_PARAM.has(String(node.path?.original)))) return;
    const path = node.path;
    if (!path || path.type !== 'PathExpression') return;
    const name = String(path.original);
    if (!helpers.includes(name)) {
      const hint = didYouMean(name, helpers);
      problems.push({
        location: at(path),
        message: `unknown helper '${name}'`,
        fix: `${hint ? `${hint} ` : ''}the helpers are ${listChoices(helpers)}`,
      });
      return;
    }
    if (EXACTLY_ONE_PARAM.has(name) && node.params?.length !== 1) {
      problems.push({
        location: at(path),
        message: `{{#${name}}} needs exactly one argument, got ${node.params?.length ?? 0}`,
        fix: `write {{#${name} variable}}...{{/${name}}}`,
      });
    }
  });
  return problems;
}
