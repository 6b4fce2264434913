import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { block, editBlock } from '../../../src/operations/block.ts';
import type { OpContext } from '../../../src/operations/operation.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import { applyTwice, fakePathProbe, targets } from './_run-local.ts';

const ctx: OpContext = { host: 'h', facts: stubFacts[0] as Facts, bake: false };
const file = (content: string) => fakePathProbe({ type: 'file', stat: `644 0 0 root root ${Buffer.byteLength(content)}`, content });
const M = { begin: '# BEGIN x', end: '# END x' };
const EOF = { at: 'EOF' } as const;

const edits: Array<[string, string, Parameters<typeof editBlock>[1], string]> = [
  ['insert at the end', 'a\n', { ...M, body: ['b'], where: EOF }, 'a\n# BEGIN x\nb\n# END x\n'],
  ['insert at the end of a file without a final newline', 'a', { ...M, body: ['b'], where: EOF }, 'a\n# BEGIN x\nb\n# END x\n'],
  ['insert at the beginning', 'a\n', { ...M, body: ['b'], where: { at: 'BOF' } }, '# BEGIN x\nb\n# END x\na\n'],
  ['insert after the last match', 'k\na\nk\nz\n', { ...M, body: ['b'], where: { after: /^k/ } }, 'k\na\nk\n# BEGIN x\nb\n# END x\nz\n'],
  ['insert before the last match', 'k\nz\n', { ...M, body: ['b'], where: { before: /^z/ } }, 'k\n# BEGIN x\nb\n# END x\nz\n'],
  ['no match for insertAfter: at the end', 'a\n', { ...M, body: ['b'], where: { after: /^q/ } }, 'a\n# BEGIN x\nb\n# END x\n'],
  ['update in place', 'a\n# BEGIN x\nold\nold2\n# END x\nz\n', { ...M, body: ['new'], where: EOF }, 'a\n# BEGIN x\nnew\n# END x\nz\n'],
  ['up to date', 'a\n# BEGIN x\nb\n# END x\n', { ...M, body: ['b'], where: EOF }, 'a\n# BEGIN x\nb\n# END x\n'],
  ['remove', 'a\n# BEGIN x\nb\n# END x\nz\n', { ...M, body: undefined, where: EOF }, 'a\nz\n'],
  ['remove, absent already', 'a\n', { ...M, body: undefined, where: EOF }, 'a\n'],
  ['into an empty file', '', { ...M, body: ['b', 'c'], where: EOF }, '# BEGIN x\nb\nc\n# END x\n'],
];
for (const [name, before, o, want] of edits) {
  test(`edit: ${name}`, (t) => t.is(editBlock(before, o).after, want));
}

test('edit: a begin marker without its end is an error naming the line', (t) => {
  t.throws(() => editBlock('a\n# BEGIN x\nb\n', { ...M, body: ['c'], where: EOF }), { message: /line 2 is the block's begin marker, but no end marker \("# END x"\) follows it/ });
});

test('plan: default markers, two blocks of one file with their own markers, removal by empty block', (t) => {
  const p = block({ id: 'b', path: '/etc/x', block: 'one\ntwo\n' }).plan(file('a\n'), ctx);
  t.is(p.kind, 'change');
  t.regex(p.kind === 'change' ? (p.diff ?? '') : '', /^\+# BEGIN CAIRN MANAGED BLOCK\n\+one\n\+two\n\+# END CAIRN MANAGED BLOCK$/m);
  const two = 'a\n# BEGIN one\n1\n# END one\n';
  t.is(block({ id: 'b', path: '/etc/x', marker: '# {mark} one', block: '1' }).plan(file(two), ctx).kind, 'noop');
  t.is(block({ id: 'b', path: '/etc/x', marker: '# {mark} two', block: '2' }).plan(file(two), ctx).kind, 'change');
  const gone = block({ id: 'b', path: '/etc/x', marker: '# {mark} one', block: '' }).plan(file(two), ctx);
  t.is(gone.kind === 'change' ? gone.reason : gone.kind, 'edit /etc/x: remove the block at line 2');
  t.is(block({ id: 'b', path: '/etc/x', state: 'absent' }).plan(fakePathProbe({ type: 'absent' }), ctx).kind, 'noop');
  t.is(block({ id: 'b', path: '/etc/x', block: 'x', create: true }).plan(fakePathProbe({ type: 'absent' }), ctx).kind, 'change');
});

test('params are checked before any host', (t) => {
  t.throws(() => block({ id: 'b', path: '/etc/x', marker: '# managed' }), { message: /param `marker` must be one line containing \{mark\}/ });
  t.throws(() => block({ id: 'b', path: '/etc/x', insertAfter: 'a', insertBefore: 'b' }), { message: /`insertAfter`.*exclusive/ });
  t.throws(() => block({ id: 'b', path: '/etc/x', insertAfter: '(' }), { message: /param `insertAfter` does not compile/ });
  t.throws(() => block({ id: 'b', path: '/etc/x', markerBegin: 'X', markerEnd: 'X' }), { message: /same line/ });
});

for (const target of targets()) {
  test(`${target.name}: a block in a real file, twice; updated; removed`, (t) => {
    const path = `${target.tempDir()}/sshd_config`;
    writeFileSync(target.outside(path), "Port 22\n# it's $(id)\n");
    applyTwice(t, target, block({ id: 'm', path, marker: '# {mark} match', block: 'Match User deploy\n  ForceCommand /bin/true' }));
    t.is(readFileSync(target.outside(path), 'utf8'), "Port 22\n# it's $(id)\n# BEGIN match\nMatch User deploy\n  ForceCommand /bin/true\n# END match\n");
    applyTwice(t, target, block({ id: 'm', path, marker: '# {mark} match', block: 'Match User ops', insertBefore: 'BOF' }));
    t.is(readFileSync(target.outside(path), 'utf8'), "Port 22\n# it's $(id)\n# BEGIN match\nMatch User ops\n# END match\n", 'updated in place, not moved');
    applyTwice(t, target, block({ id: 'm', path, marker: '# {mark} match', state: 'absent' }));
    t.is(readFileSync(target.outside(path), 'utf8'), "Port 22\n# it's $(id)\n");
  });
}
