import test from 'ava';
import { PathLedger, covers } from '../../../src/engine/path-ledger.ts';
import { applyEffects, PREDICTED_ABSENT, predictFile } from '../../../src/operations/predict.ts';
import type { PathEffect } from '../../../src/operations/operation.ts';

const write = (path: string, text: string): PathEffect => ({ path, kind: 'state', state: predictFile(Buffer.from(text), { mode: '0644' }, { type: 'absent' }) });

test('a step sees the entries newer than its probe, on its paths only, oldest first', (t) => {
  const l = new PathLedger();
  const a = {};
  const b = {};
  l.probed(a);
  l.record('r/one', [write('/etc/x', '1')]);
  l.probed(b);
  l.record('r/two', [write('/etc/x', '2'), write('/etc/y', 'y')]);
  t.deepEqual(l.since(a, ['/etc/x']).map((e) => e.by), ['r/one', 'r/two']);
  t.deepEqual(l.since(b, ['/etc/x']).map((e) => e.by), ['r/two'], 'what was there at its probe is in it');
  t.deepEqual(l.since(a, ['/etc/z']), []);
  t.deepEqual(l.since(a, []), []);
});

test('unknown entries, or a step that cannot build on entries, need a new probe', (t) => {
  const l = new PathLedger();
  const s = {};
  l.probed(s);
  l.record('r/cmd', [{ path: '/opt/app', kind: 'unknown', tree: true }]);
  t.true(l.needsProbe(s, ['/opt/app/bin/x'], true), 'below an unknown tree');
  t.false(l.needsProbe(s, ['/opt/other'], true));
  l.probed(s);
  t.false(l.needsProbe(s, ['/opt/app/bin/x'], true), 'probed again after it');
  l.record('r/f', [write('/etc/x', 'x')]);
  t.false(l.needsProbe(s, ['/etc/x'], true));
  t.true(l.needsProbe(s, ['/etc/x'], false), 'a step without planFrom');
});

test('covers: the path itself; below it only for a tree effect; never a sibling with the same prefix', (t) => {
  t.true(covers({ path: '/a/b', kind: 'unknown' }, '/a/b'));
  t.false(covers({ path: '/a/b', kind: 'unknown' }, '/a/b/c'));
  t.true(covers({ path: '/a/b', kind: 'unknown', tree: true }, '/a/b/c'));
  t.false(covers({ path: '/a/b', kind: 'unknown', tree: true }, '/a/bc'));
  t.true(covers({ path: '/a', kind: 'state', state: PREDICTED_ABSENT, tree: true }, '/a/x'));
});

test('applyEffects: the last whole state wins, attributes apply on top and keep the content read', (t) => {
  const read = { type: 'file' as const, mode: 0o644, uid: 0, gid: 0, user: 'root', group: 'root', content: Buffer.from('read') };
  const attrs: PathEffect = { path: '/x', kind: 'attributes', attributes: { mode: 0o600, user: 'consul' } };
  const st = applyEffects(read, [attrs]);
  t.is(st.mode, 0o600);
  t.is(st.user, 'consul');
  t.is(st.uid, undefined, 'the numeric id read before belongs to the old owner');
  t.is(st.group, 'root');
  t.is(st.content?.toString(), 'read');
  t.true(st.pending);
  const whole = applyEffects(read, [attrs, write('/x', 'new')]);
  t.is(whole.content?.toString(), 'new');
  t.is(whole.mode, 0o644);
});

test('predictFile: mode, owner and group as written, content and hash', (t) => {
  const st = predictFile(Buffer.from('hi\n'), { mode: '0600', owner: '0', group: 'consul' }, { type: 'file', uid: 5, user: 'x', gid: 7, group: 'g' });
  t.like(st, { type: 'file', mode: 0o600, uid: 0, user: 'root', group: 'consul', size: 3, pending: true });
  t.is(st.gid, undefined);
  t.is(st.sha256, '98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4');
});
