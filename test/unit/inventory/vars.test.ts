import test from 'ava';
import fc from 'fast-check';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSecret, Secret } from '../../../src/core/secret.ts';
import { loadInventory, parseInventoryText } from '../../../src/inventory/load.ts';
import { EXTRA_VARS_LOCATION, hasVar, mergeVars, varsForHost, whereIsVar } from '../../../src/inventory/vars.ts';

const site = join(fileURLToPath(new URL('../../fixtures/inventory/', import.meta.url)), 'site.yml');

test('mergeVars: maps merge deeply, later wins', (t) => {
  t.deepEqual(mergeVars([{ a: 1, m: { x: 1, y: 1 } }, { m: { y: 2, z: 2 } }, { a: 3 }]), { a: 3, m: { x: 1, y: 2, z: 2 } });
});

test('mergeVars: lists are replaced, not concatenated', (t) => {
  t.deepEqual(mergeVars([{ l: [1, 2, 3] }, { l: [4] }]), { l: [4] });
});

test('mergeVars: a scalar or null replaces a map and the other way round', (t) => {
  t.deepEqual(mergeVars([{ m: { x: 1 } }, { m: null }]), { m: null });
  t.deepEqual(mergeVars([{ m: 'text' }, { m: { x: 1 } }]), { m: { x: 1 } });
});

test('mergeVars: secrets stay the same Secret objects', (t) => {
  const s = new Secret('gossip-key-1');
  const merged = mergeVars([{ consul: { key: 'plain' } }, { consul: { key: s } }]);
  const consul = merged['consul'] as Record<string, unknown>;
  t.is(consul['key'], s);
  t.true(isSecret(consul['key']));
});

test('mergeVars: the result shares no map or list with its inputs', (t) => {
  const layer = { m: { l: [1] } };
  const merged = mergeVars([layer]) as { m: { l: number[] } };
  merged.m.l.push(2);
  t.deepEqual(layer, { m: { l: [1] } });
});

test('mergeVars: a __proto__ key is data, not a prototype', (t) => {
  const layer = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
  const merged = mergeVars([layer]);
  t.is(Object.getPrototypeOf(merged), Object.prototype);
  t.deepEqual(Object.keys(merged), ['__proto__']);
  t.is(({} as Record<string, unknown>)['polluted'], undefined);
});

const json = fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 3 })).map((v) => v as Record<string, unknown>);

test('mergeVars property: every top-level key of the last layer wins or merges', (t) => {
  fc.assert(
    fc.property(json, json, (a, b) => {
      const m = mergeVars([a, b]);
      for (const [k, v] of Object.entries(b)) {
        const both = [a[k], v].every((x) => x !== null && typeof x === 'object' && !Array.isArray(x));
        if (!both && JSON.stringify(m[k]) !== JSON.stringify(v)) return false;
      }
      return Object.keys(a).every((k) => k in m);
    }),
  );
  t.pass();
});

test('mergeVars property: merging with itself or with nothing changes nothing', (t) => {
  fc.assert(
    fc.property(json, (a) => {
      const s = JSON.stringify(a);
      return JSON.stringify(mergeVars([a])) === s && JSON.stringify(mergeVars([a, a])) === s && JSON.stringify(mergeVars([{}, a, {}])) === s;
    }),
  );
  t.pass();
});

test('varsForHost: role defaults < global < groups in inventory order < host < extra', (t) => {
  const inv = loadInventory(site);
  const alp2 = inv.hosts.get('alp2')!;
  const defaults = { ntp_server: 'default', consul: { datacenter: 'default', ui: false } };
  t.deepEqual(varsForHost(inv, alp2, defaults), {
    ntp_server: 'pool.example',
    // servers then clients: the later group wins
    consul: { datacenter: 'dc-clients', ui: false, retry_join: ['alp1', 'alp2'], server: false },
  });
  const alp1 = inv.hosts.get('alp1')!;
  const v = varsForHost(inv, alp1, defaults, { consul: { ui: true } });
  t.deepEqual((v['consul'] as Record<string, unknown>)['server'], true);
  t.deepEqual((v['consul'] as Record<string, unknown>)['ui'], true);
  t.is((v['consul'] as Record<string, unknown>)['datacenter'], 'dc-servers');
  t.true(isSecret(v['consul_gossip_key']));
});

test('varsForHost: a host in no group gets global vars', (t) => {
  const inv = loadInventory(site);
  t.deepEqual(varsForHost(inv, inv.hosts.get('laptop')!), inv.vars);
});

test('whereIsVar: the winning definition', (t) => {
  const inv = loadInventory(site);
  const alp2 = inv.hosts.get('alp2')!;
  t.deepEqual(whereIsVar(inv, alp2, 'consul.datacenter'), { file: site, line: 53, column: 9 });
  t.deepEqual(whereIsVar(inv, alp2, 'consul.server'), { file: site, line: 47, column: 9 });
  t.deepEqual(whereIsVar(inv, alp2, 'consul.retry_join'), { file: site, line: 13, column: 5 });
  t.deepEqual(whereIsVar(inv, alp2, 'ntp_server'), { file: site, line: 10, column: 3 });
  t.deepEqual(whereIsVar(inv, inv.hosts.get('alp1')!, 'consul_gossip_key'), { file: site, line: 24, column: 7 });
  t.is(whereIsVar(inv, alp2, 'nomad_region'), undefined);
  t.is(whereIsVar(inv, alp2, 'ntp_server', { ntp_server: 'x' }), EXTRA_VARS_LOCATION);
});

test('whereIsVar: a key set through a YAML merge points at the nearest known key', (t) => {
  const inv = parseInventoryText('vars:\n  base: &b { x: 1 }\n  consul:\n    <<: *b\nhosts:\n  a:\n', 'inv.yml');
  t.deepEqual(whereIsVar(inv, inv.hosts.get('a')!, 'consul.x'), { file: 'inv.yml', line: 3, column: 3 });
});

test('hasVar: literal keys and dotted paths', (t) => {
  t.true(hasVar({ 'a.b': 1 }, 'a.b'));
  t.true(hasVar({ a: { b: null } }, 'a.b'));
  t.false(hasVar({ a: { b: 1 } }, 'a.c'));
  t.false(hasVar({ a: 'text' }, 'a.length'));
  t.false(hasVar({}, 'toString'));
});
