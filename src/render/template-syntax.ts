import type { InputProblem } from '../core/errors.ts';

const SYNTAX_FIX = 'close every {{ with }}, and every {{#block}} with its {{/block}}; a literal {{ is written \\{{';

/** The innermost `{{#name}}` without its `{{/name}}`, with its line. */
export function unclosedBlock(source: string): { name: string; line: number } | undefined {
  const stack: { name: string; line: number }[] = [];
  const tag = /\{\{~?\s*([#^/])\s*>?\s*([^\s}~]+)/g;
  for (let m = tag.exec(source); m; m = tag.exec(source)) {
    const line = source.slice(0, m.index).split('\n').length;
    if (m[1] === '/') {
      const i = stack.map((b) => b.name).lastIndexOf(m[2]!);
      if (i >= 0) stack.splice(i);
    } else stack.push({ name: m[2]!, line });
  }
  return stack[stack.length - 1];
}

/**
 * A Handlebars parse or compile error as a problem with the line (and column
 * when Handlebars gives one), in words rather than parser tokens.
 */
export function syntaxProblem(err: unknown, file: string, source: string): InputProblem {
  const e = err as { message?: string; lineNumber?: number; column?: number };
  const message = String(e.message ?? err);
  const parse = /^(?:Parse|Lexical) error on line (\d+)/.exec(message);
  if (!parse) {
    const mismatch = /^(\S+) doesn't match (\S+)/.exec(message);
    const detail = mismatch ? `{{/${mismatch[2]}}} does not close {{#${mismatch[1]}}} opened here` : message.replace(/ - \d+:\d+$/, '');
    return {
      location: { file, ...(e.lineNumber ? { line: e.lineNumber } : {}), ...(e.column !== undefined ? { column: e.column + 1 } : {}) },
      message: `template syntax error: ${detail}`,
      fix: mismatch ? `close {{#${mismatch[1]}}} with {{/${mismatch[1]}}} before {{/${mismatch[2]}}}` : SYNTAX_FIX,
    };
  }
  const lines = message.split('\n');
  const expected = lines[lines.length - 1] ?? '';
  const open = unclosedBlock(source);
  if (/got 'EOF'/.test(expected) && open) {
    return {
      location: { file, line: open.line },
      message: `template syntax error: {{#${open.name}}} is never closed`,
      fix: `add {{/${open.name}}} where the block ends`,
    };
  }
  const near = lines[1] ? ` near '${lines[1].slice(-30)}'` : '';
  const what = /got 'INVALID'/.test(expected)
    ? `unexpected text inside {{ }}${near} (an unclosed {{ or a stray character)`
    : `${expected.replace(/^Expecting /, 'expected ')}${near}`;
  return { location: { file, line: Number(parse[1]) }, message: `template syntax error: ${what}`, fix: SYNTAX_FIX };
}
