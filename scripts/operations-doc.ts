/**
 * docs/operations.md, generated from the code: every operation the package exports
 * (a function of src/operations/ returning an Operation), its TSDoc, every parameter
 * with its type, its default and its TSDoc, and an example. Defaults are read from
 * the code itself (`params.x ?? value`), so the page cannot drift from what runs;
 * `npm run docs:ops` rewrites the page, test/unit/docs/operations-doc.test.ts fails
 * when it is stale.
 *
 * Examples: the operation's `@example` TSDoc tag, else its first call in a built-in
 * role (roles/) or a demo role (inventory/roles/).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const repo = fileURLToPath(new URL('../', import.meta.url));
export const OPERATIONS_DOC = join(repo, 'docs', 'operations.md');

interface Param {
  name: string;
  type: string;
  required: boolean;
  default?: string;
  doc: string;
}

interface Op {
  name: string;
  file: string;
  doc: string;
  params: Param[];
  /** Positional parameters (`whenExists(path, op)`), not one object. */
  positional?: boolean;
  example?: { code: string; from?: string };
}

/** The text of the params every operation shares, where the interface leaves it out. */
const COMMON_DOC: Record<string, string> = {
  id: "The step's name in its role, unique there: `role/id` in reports, `--tags` and `--skip-tags`.",
  path: 'Absolute path on the host.',
  mode: "Octal mode such as '0644'.",
  owner: 'Owner: a user name or uid.',
  group: 'Group: a group name or gid.',
  state: 'present or absent (see the other parameters).',
  secret: 'Never show the content (diff hidden).',
  notify: 'Handlers (by name) to run when this step changes something: once, at the end of the role.',
};

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();
const cell = (s: string) => oneLine(s).replace(/\|/g, '\\|');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

function program(): ts.Program {
  const config = ts.getParsedCommandLineOfConfigFile(join(repo, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error('cannot read tsconfig.json');
  const roots = [join(repo, 'src', 'index.ts'), ...sources(join(repo, 'roles')), ...sources(join(repo, 'inventory', 'roles'))];
  return ts.createProgram(roots, { ...config.options, noEmit: true });
}

function docOf(checker: ts.TypeChecker, symbol: ts.Symbol): string {
  return ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
}

/** The value after `??` wherever the code reads this property: `params.state ?? 'present'`. */
function defaultsIn(checker: ts.TypeChecker, files: readonly ts.SourceFile[], decl: ts.Declaration): string | undefined {
  let found: string | undefined;
  const readsProp = (node: ts.Node): boolean => {
    if (ts.isPropertyAccessExpression(node)) {
      const s = checker.getSymbolAtLocation(node.name);
      if (s?.declarations?.includes(decl)) return true;
    }
    if (ts.isParenthesizedExpression(node) || ts.isCallExpression(node) || ts.isAsExpression(node)) return node.getChildren().some((c) => readsProp(c) || c.kind === ts.SyntaxKind.SyntaxList && c.getChildren().some(readsProp));
    return false;
  };
  /** A value a reader can use: a literal, a constant, a template with `<name>` for its holes; code (a computed default) is left to the text. */
  const valueText = (e: ts.Expression): string | null => {
    if (ts.isIdentifier(e)) {
      const d = checker.getSymbolAtLocation(e)?.valueDeclaration;
      if (d && ts.isVariableDeclaration(d) && d.initializer && (ts.isStringLiteral(d.initializer) || ts.isNumericLiteral(d.initializer) || ts.isNoSubstitutionTemplateLiteral(d.initializer))) {
        return d.initializer.getText();
      }
      return null;
    }
    if (ts.isTemplateExpression(e)) {
      return `'${e.head.text}${e.templateSpans.map((sp) => `<${sp.expression.getText().split('.').pop()}>${sp.literal.text}`).join('')}'`;
    }
    const literal =
      ts.isStringLiteral(e) || ts.isNumericLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) ||
      e.kind === ts.SyntaxKind.TrueKeyword || e.kind === ts.SyntaxKind.FalseKeyword || e.kind === ts.SyntaxKind.NullKeyword ||
      (ts.isArrayLiteralExpression(e) && e.elements.length === 0) || (ts.isObjectLiteralExpression(e) && e.properties.length === 0) ||
      (ts.isPrefixUnaryExpression(e) && ts.isNumericLiteral(e.operand));
    return literal ? e.getText() : null;
  };
  const visit = (node: ts.Node): void => {
    if (found !== undefined) return;
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken && readsProp(node.left)) {
      const v = valueText(node.right);
      if (v !== null) {
        found = oneLine(v);
        return;
      }
    }
    ts.forEachChild(node, visit);
  };
  for (const f of files) visit(f);
  return found;
}

/** The first call of `name(...)` in the roles: a real example. */
function exampleInRoles(files: readonly ts.SourceFile[], name: string): { code: string; from: string } | undefined {
  for (const f of files) {
    let hit: ts.CallExpression | undefined;
    const visit = (node: ts.Node): void => {
      if (hit) return;
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === name && node.arguments.length > 0 && ts.isObjectLiteralExpression(node.arguments[0]!)) {
        hit = node;
        return;
      }
      ts.forEachChild(node, visit);
    };
    visit(f);
    if (hit) {
      const { character } = f.getLineAndCharacterOfPosition(hit.getStart());
      const code = hit
        .getText()
        .split('\n')
        .map((l, i) => (i === 0 ? l : l.slice(Math.min(character, l.length - l.trimStart().length))))
        .join('\n');
      return { code, from: relative(repo, f.fileName) };
    }
  }
  return undefined;
}

export function collectOperations(): Op[] {
  const prog = program();
  const checker = prog.getTypeChecker();
  const index = prog.getSourceFile(join(repo, 'src', 'index.ts'));
  if (!index) throw new Error('src/index.ts not in the program');
  const opFiles = prog.getSourceFiles().filter((f) => f.fileName.startsWith(join(repo, 'src', 'operations') + '/'));
  const roleFiles = prog
    .getSourceFiles()
    .filter((f) => f.fileName.startsWith(join(repo, 'roles') + '/') || f.fileName.startsWith(join(repo, 'inventory', 'roles') + '/'))
    .sort((a, b) => a.fileName.localeCompare(b.fileName));
  const ops: Op[] = [];
  for (const exported of checker.getExportsOfModule(checker.getSymbolAtLocation(index)!)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decl = symbol.valueDeclaration;
    if (!decl || !ts.isFunctionDeclaration(decl) || !decl.getSourceFile().fileName.startsWith(join(repo, 'src', 'operations') + '/')) continue;
    const signature = checker.getSignatureFromDeclaration(decl);
    if (!signature) continue;
    const returns = checker.getReturnTypeOfSignature(signature);
    const returnsOperation = [returns, ...(returns.getBaseTypes?.() ?? [])].some((t) => /^(\w+)?Operation$/.test(t.symbol?.name ?? '') || /\bOperation\b/.test(checker.typeToString(t)));
    if (!returnsOperation) continue;
    const params: Param[] = [];
    if (decl.parameters.length !== 1) {
      // positional parameters: name, type, @param text
      const paramTags = new Map(ts.getJSDocParameterTags(decl.parameters[0]!).length ? decl.parameters.map((p) => [p.name.getText(), oneLine(ts.getJSDocParameterTags(p).map((t) => ts.getTextOfJSDocComment(t.comment) ?? '').join(' '))]) : []);
      for (const p of decl.parameters) {
        const optional = !!p.questionToken || !!p.initializer;
        params.push({ name: p.name.getText(), type: p.type ? oneLine(p.type.getText()) : 'unknown', required: !optional, ...(p.initializer ? { default: p.initializer.getText() } : {}), doc: paramTags.get(p.name.getText()) ?? '' });
      }
      const exampleTag = symbol.getJsDocTags(checker).find((t) => t.name === 'example');
      const example = exampleTag ? { code: ts.displayPartsToString(exampleTag.text).trim() } : exampleInRoles(roleFiles, exported.name);
      ops.push({ name: exported.name, file: relative(repo, decl.getSourceFile().fileName), doc: docOf(checker, symbol), params, positional: true, ...(example ? { example } : {}) });
      continue;
    }
    const paramType = checker.getTypeAtLocation(decl.parameters[0]!);
    for (const prop of paramType.getProperties()) {
      const pd = prop.valueDeclaration ?? prop.declarations?.[0];
      if (!pd) continue;
      const typeNode = ts.isPropertySignature(pd) ? pd.type : undefined;
      const type = typeNode ? oneLine(typeNode.getText()) : checker.typeToString(checker.getTypeOfSymbolAtLocation(prop, pd));
      const tagDefault = prop.getJsDocTags(checker).find((t) => t.name === 'default');
      const required = !(prop.flags & ts.SymbolFlags.Optional);
      const dflt = required ? undefined : (defaultsIn(checker, opFiles, pd) ?? (tagDefault ? ts.displayPartsToString(tagDefault.text) : undefined));
      params.push({ name: prop.name, type, required, ...(dflt !== undefined ? { default: dflt } : {}), doc: docOf(checker, prop) || COMMON_DOC[prop.name] || '' });
    }
    const exampleTag = symbol.getJsDocTags(checker).find((t) => t.name === 'example');
    const example = exampleTag ? { code: ts.displayPartsToString(exampleTag.text).trim() } : exampleInRoles(roleFiles, exported.name);
    ops.push({ name: exported.name, file: relative(repo, decl.getSourceFile().fileName), doc: docOf(checker, symbol), params, ...(example ? { example } : {}) });
  }
  return ops;
}

function render(ops: Op[]): string {
  const out: string[] = [
    '# Operations',
    '',
    '<!-- Generated by `npm run docs:ops` (scripts/operations-doc.ts) from the TSDoc and the code of src/operations/: do not edit by hand. -->',
    '',
    "Every step of a role is one of these operations, imported from the package (`import { file } from 'cairn-provision'`).",
    'Each takes one object of parameters; `id` names the step (`role/id` in reports and `--tags`). A parameter the',
    'operation does not take is refused before any connection (exit 65), with a suggestion for a near miss.',
    'Defaults are those of the code (`params.x ?? default`); "—" means unset (the parameter\'s text says what that does).',
    '',
    ops.map((o) => `[\`${o.name}\`](#${o.name.toLowerCase()})`).join(' · '),
    '',
  ];
  for (const op of ops) {
    out.push(`## ${op.name}`, '', op.doc || '(no description)', '', `Source: \`${op.file}\``, '');
    if (op.positional) out.push(`Positional parameters: \`${op.name}(${op.params.map((p) => (p.required ? p.name : `${p.name}?`)).join(', ')})\`.`, '');
    out.push('| parameter | type | default | meaning |', '|---|---|---|---|');
    for (const p of op.params) {
      const dflt = p.required ? '**required**' : p.default !== undefined ? `\`${cell(p.default)}\`` : '—';
      out.push(`| \`${p.name}\` | \`${cell(p.type)}\` | ${dflt} | ${cell(p.doc)} |`);
    }
    out.push('');
    if (op.example) {
      out.push(op.example.from ? `Example (from \`${op.example.from}\`):` : 'Example:', '', '```ts', op.example.code, '```', '');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

export function operationsDoc(): string {
  return render(collectOperations());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(OPERATIONS_DOC, operationsDoc());
  process.stdout.write(`wrote ${relative(process.cwd(), OPERATIONS_DOC) || OPERATIONS_DOC}\n`);
}
