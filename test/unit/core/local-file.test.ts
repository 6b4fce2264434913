import test from 'ava';
import { mkdtempSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLocalFile } from '../../../src/core/local-file.ts';

test('a local file is read once and shared while unchanged; read again when it changes', (t) => {
  const p = join(mkdtempSync(join(tmpdir(), 'cairn-local-')), 'agent');
  writeFileSync(p, 'v1');
  const a = readLocalFile(p);
  t.is(readLocalFile(p).content, a.content, 'the same Buffer for the next host');
  t.is(a.sha256, '3bfc269594ef649228e9a74bab00f042efc91d5acc6fbee31a382e80d42388fe');
  writeFileSync(p, 'v2!');
  utimesSync(p, new Date(), new Date(Date.now() + 5000));
  const b = readLocalFile(p);
  t.not(b.content, a.content);
  t.is(b.content.toString(), 'v2!');
});
