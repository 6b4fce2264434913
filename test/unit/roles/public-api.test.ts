/**
 * The built-in roles are written as a user writes a role: every import comes
 * from the public API ('cairn-provision', src/index.ts), from node: builtins, or from a
 * file of the same role folder. A deep import (../../src/...) or one into
 * another role fails here.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const rolesDir = fileURLToPath(new URL('../../../roles/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.(m?[jt]s|cjs|cts)$/.test(e.name) ? [p] : [];
  });
}

/** Every module specifier of a file: imports, re-exports, import(), require(). */
function specifiers(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

/** Why a specifier of `file` is not allowed, or undefined. */
function refusal(file: string, spec: string): string | undefined {
  if (spec === 'cairn-provision' || spec.startsWith('node:')) return undefined;
  if (!spec.startsWith('.')) return `'${spec}': import from 'cairn-provision' (or a node: builtin)`;
  const roleFolder = join(rolesDir, relative(rolesDir, file).split(sep)[0]!);
  const target = resolve(dirname(file), spec);
  if (target === roleFolder || target.startsWith(roleFolder + sep)) return undefined;
  return `'${spec}' leaves the role folder: import from 'cairn-provision'`;
}

test('every role file imports only from cairn, node: builtins or its own role folder', (t) => {
  const files = sources(rolesDir);
  t.true(files.length >= 11, `role files found: ${files.length}`);
  const bad = files.flatMap((f) => specifiers(f).flatMap((s) => {
    const why = refusal(f, s);
    return why ? [`${relative(rolesDir, f)}: ${why}`] : [];
  }));
  t.deepEqual(bad, []);
});

test('the check refuses deep and cross-role imports', (t) => {
  const file = join(rolesDir, 'dns', 'index.ts');
  t.is(refusal(file, 'cairn-provision'), undefined);
  t.is(refusal(file, 'node:net'), undefined);
  t.is(refusal(file, './lookup.ts'), undefined);
  t.truthy(refusal(file, '../../src/operations/kit.ts'));
  t.truthy(refusal(file, '../base/index.ts'));
  t.truthy(refusal(file, '../dns-extra/x.ts'));
  t.truthy(refusal(file, 'yaml'));
  t.deepEqual(specifiers(file).filter((s) => s !== 'cairn-provision' && !s.startsWith('node:')), []);
});
