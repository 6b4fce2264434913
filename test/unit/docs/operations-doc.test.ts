import test from 'ava';
import { readFileSync } from 'node:fs';
import { collectOperations, operationsDoc, OPERATIONS_DOC } from '../../../scripts/operations-doc.ts';
import * as api from '../../../src/index.ts';

test('docs/operations.md is what `npm run docs:ops` generates from the code (not stale)', (t) => {
  t.timeout(60_000);
  const want = operationsDoc();
  const have = readFileSync(OPERATIONS_DOC, 'utf8');
  t.true(have === want, 'docs/operations.md is stale: run `npm run docs:ops` and commit it');
});

test('every operation of the API is documented, with its params, defaults read from the code, and an example', (t) => {
  t.timeout(60_000);
  const ops = collectOperations();
  const names = ops.map((o) => o.name);
  for (const n of ['file', 'directory', 'symlink', 'line', 'replace', 'block', 'command', 'wait', 'archive', 'packages', 'user', 'group', 'sysctl', 'kernelModule', 'service', 'restartService', 'daemonReload', 'artifact', 'kernelCmdline', 'dnsCheck', 'resolvConf', 'cniPlugins', 'packagesAvailable', 'checkedFile', 'whenExists']) {
    t.true(names.includes(n), n);
    t.is(typeof (api as Record<string, unknown>)[n], 'function', `${n} is exported`);
  }
  for (const op of ops) {
    t.truthy(op.doc, `${op.name} has a description`);
    t.truthy(op.example, `${op.name} has an example`);
    for (const p of op.params) t.truthy(p.doc, `${op.name}.${p.name} has a text`);
  }
  const file = ops.find((o) => o.name === 'file')!;
  t.like(file.params.find((p) => p.name === 'state'), { required: false, default: "'present'" });
  t.like(file.params.find((p) => p.name === 'backup'), { default: 'true' });
  t.like(file.params.find((p) => p.name === 'path'), { required: true });
  const svc = ops.find((o) => o.name === 'service')!;
  t.like(svc.params.find((p) => p.name === 'runlevel'), { default: "'default'" }, 'a default set in a shared helper (checkTarget) is found');
  t.like(ops.find((o) => o.name === 'wait')!.params.find((p) => p.name === 'timeoutMs'), { required: false });
});

test("a default a param's text states is the one the code uses", (t) => {
  t.timeout(60_000);
  const norm = (s: string) => s.replace(/['"`]/g, '').replace(/_/g, '').replace(/[.:;]$/, '').trim();
  const mismatches: string[] = [];
  for (const op of collectOperations()) {
    for (const p of op.params) {
      if (p.default === undefined) continue;
      const said = /\(default:? ([^,;)]+?)(?:[,;)]| \(|$)|\bdefault:? `?([^\s,;)`]+)`?|([^\s(]+) \(default\)/i.exec(p.doc);
      const value = said?.[1] ?? said?.[2] ?? said?.[3];
      if (value && !/^(false|true)\b/.test(value) && norm(value.split(' ')[0]!) !== norm(p.default)) mismatches.push(`${op.name}.${p.name}: text says ${value}, code ${p.default}`);
      if (value && /^(false|true)\b/.test(value) && norm(value.split(/[\s:]/)[0]!) !== norm(p.default)) mismatches.push(`${op.name}.${p.name}: text says ${value}, code ${p.default}`);
    }
  }
  t.deepEqual(mismatches, []);
});
