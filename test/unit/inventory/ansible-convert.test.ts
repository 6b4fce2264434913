import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../../src/core/errors.ts';
import { convertInventory } from '../../../src/inventory/ansible/convert.ts';
import { detectFormat } from '../../../src/inventory/ansible/detect.ts';
import { loadInventory } from '../../../src/inventory/load.ts';
import type { Inventory } from '../../../src/inventory/types.ts';
import { varsForHost } from '../../../src/inventory/vars.ts';

const fixtures = fileURLToPath(new URL('../../fixtures/inventory/ansible/', import.meta.url));

function shape(inv: Inventory) {
  return {
    vars: inv.vars,
    connection: inv.connection,
    hosts: [...inv.hosts.values()].map(({ location: _l, varLocations: _v, ...h }) => h),
    groups: [...inv.groups.values()].map(({ location: _l, varLocations: _v, ...g }) => g),
  };
}

for (const file of [join(fixtures, 'yaml', 'hosts.yml'), join(fixtures, 'ini', 'hosts.ini')]) {
  test(`convert ${file.slice(fixtures.length)}: the cairn YAML loads with cairn's loader to the same inventory`, (t) => {
    const out = join(mkdtempSync(join(tmpdir(), 'cairn-convert-')), 'inventory.yml');
    const text = convertInventory(file, out);
    writeFileSync(out, text);
    t.is(detectFormat(text, out), 'cairn');
    const original = loadInventory(file);
    const converted = loadInventory(out);
    t.deepEqual(shape(converted), shape(original));
    for (const h of original.hosts.values()) t.deepEqual(varsForHost(converted, converted.hosts.get(h.name)!), varsForHost(original, h));
    t.regex(text, /^# cairn inventory, converted from hosts\.(yml|ini) and (hosts\.)?cairn\.yml/);
  });
}

test('convert keeps roles from the overlay and writes paths relative to the output', (t) => {
  const text = convertInventory(join(fixtures, 'yaml', 'hosts.yml'), join(fixtures, 'yaml', 'out.yml'));
  t.regex(text, /identity: keys\/srv1\n/);
  t.regex(text, /servers:\n {4}hosts: \[ srv1, srv2 \]\n(.*\n)*? {4}roles: \[ consul \]/);
  t.regex(text, /connection:\n {2}connect_timeout: 5s\nvars:/);
});

test('convert refuses a cairn inventory: nothing to convert', (t) => {
  t.throws(() => convertInventory(join(fixtures, '..', 'minimal.yml'), undefined), { instanceOf: UsageError, message: /not an Ansible inventory/ });
});
