import test from 'ava';
import * as api from '../../../src/index.ts';
import { cleanupStep } from '../../../src/bake/cleanup-op.ts';
import { IDENTITY_ITEMS } from '../../../src/bake/identity.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import { file } from '../../../src/operations/file.ts';
import { rejectUnknownParams, UnknownParamError } from '../../../src/operations/kit.ts';
import { sh } from '../../../src/shell/sh.ts';
import { wait } from '../../../src/operations/wait.ts';
import { resolvConf } from '../../../src/operations/resolv-conf.ts';
import { artifact } from '../../../src/operations/artifact.ts';

type Constructor = (params: Record<string, unknown>) => unknown;

/** The operation constructors of the public API that take one params object. */
const OPS = [
  'file', 'directory', 'symlink', 'line', 'replace', 'block', 'command', 'wait', 'archive', 'packages', 'user', 'group', 'sysctl',
  'kernelModule', 'service', 'restartService', 'daemonReload', 'artifact', 'kernelCmdline', 'dnsCheck', 'resolvConf', 'cniPlugins',
  'packagesAvailable', 'checkedFile', 'bootFile',
] as const;
const ops = OPS.map((name) => [name, (api as unknown as Record<string, Constructor>)[name]!] as [string, Constructor]);

test('the public API exports the operations this test iterates over', (t) => {
  for (const [n, make] of ops) t.is(typeof make, 'function', n);
  for (const name of ['file', 'line', 'command', 'service', 'restartService', 'daemonReload', 'artifact', 'checkedFile']) t.true(ops.some(([n]) => n === name), name);
});

for (const [name, make] of ops) {
  test(`${name}: a misspelled param is refused, with the param it resembles`, (t) => {
    const err = t.throws(() => make({ id: 'x', idd: 'y' }), { instanceOf: UnknownParamError });
    t.regex(err?.message ?? '', /^\w+ 'x': unknown param `idd`; did you mean `id`\?$/);
  });
  test(`${name}: an unknown param is refused, with the params it takes`, (t) => {
    const err = t.throws(() => make({ id: 'x', colourScheme: 'dark' }), { instanceOf: UnknownParamError });
    t.regex(err?.message ?? '', /^\w+ 'x': unknown param `colourScheme`; fix: remove it \(\w+ takes id(, .*)?\)$/);
  });
}

test('file: modee is refused before anything else, naming mode', (t) => {
  t.throws(() => file({ id: 'x', path: '/etc/x', content: 'a', modee: '0600' } as never), { message: "file 'x': unknown param `modee`; did you mean `mode`?" });
});

test('several unknown params are named together', (t) => {
  t.throws(() => file({ id: 'x', path: '/etc/x', content: 'a', modee: '0600', colour: 1 } as never), {
    message: /^file 'x': unknown params `modee` \(did you mean `mode`\?\), `colour`; fix: rename or remove them \(file takes id, path, state, content, /,
  });
});

test('a key set to undefined is still unknown', (t) => {
  t.throws(() => file({ id: 'x', path: '/etc/x', content: 'a', mdoe: undefined } as never), { message: "file 'x': unknown param `mdoe`; did you mean `mode`?" });
});

test('every known param passes', (t) => {
  t.notThrows(() => file({ id: 'x', path: '/etc/x', content: 'a', mode: '0600', owner: 'root', group: 0, backup: false, notify: [], secret: false }));
});

test('nested params are checked too', (t) => {
  t.throws(() => wait({ id: 'w', tcp: { host: '127.0.0.1', prot: 80 } } as never), { message: "wait 'w': unknown param `tcp.prot`; did you mean `tcp.port`?" });
  t.throws(() => wait({ id: 'w', http: { ulr: 'http://x' } } as never), { message: "wait 'w': unknown param `http.ulr`; did you mean `http.url`?" });
  t.throws(() => resolvConf({ id: 'r', nameservers: ['10.0.0.1'], verify: { nmae: 'x' } } as never), { message: "resolvConf 'r': unknown param `verify.nmae`; did you mean `verify.name`?" });
  t.throws(() => artifact({ id: 'a', url: 'https://x/y', sha256: { sumsFile: 'https://x/s', nmae: 'y' }, dest: '/usr/local/bin/y' } as never), { message: "artifact 'a': unknown param `sha256.nmae`; did you mean `sha256.name`?" });
  t.throws(() => artifact({ id: 'a', url: 'https://x/y', sha256: 'a'.repeat(64), extract: { memebr: 'y' }, dest: '/usr/local/bin/y' } as never), { message: "artifact 'a': unknown param `extract.memebr`; did you mean `extract.member`?" });
});

test('params that are not an object are refused', (t) => {
  t.throws(() => wait({ id: 'w', tcp: 'localhost:80' } as never), { message: /^wait 'w': param `tcp` must be an object, got string; fix: give \{ host, port \}$/ });
  t.throws(() => rejectUnknownParams('k', 'i', null, ['id']), { message: "k 'i': params must be an object, got null; fix: give { id }" });
});

test('whenExists keeps the inner op, whose params were checked', (t) => {
  t.throws(() => api.whenExists('/etc/dhcp', file({ id: 'x', path: '/etc/x', content: 'a', modee: '0600' } as never)), { instanceOf: UnknownParamError });
});

test('bake cleanup: unknown step options are refused', (t) => {
  const item = IDENTITY_ITEMS[0]!;
  const env = { facts: stubFacts[0]!, vars: {} };
  t.notThrows(() => cleanupStep(item, env as never, { prefix: '/tmp/x' }));
  t.throws(() => cleanupStep(item, env as never, { prefx: '/tmp/x' } as never), { message: `bakeCleanup '${item.id}': unknown param \`prefx\`; did you mean \`prefix\`?` });
});

test('service ops share the target params, service adds enabled and state', (t) => {
  t.throws(() => api.restartService({ id: 's', name: 'nomad', enabled: true } as never), { message: /^restartService 's': unknown param `enabled`; fix: remove it/ });
  t.notThrows(() => api.service({ id: 's', name: 'nomad', enabled: true, state: 'started', runlevel: 'default' }));
  t.throws(() => api.daemonReload({ id: 'd', nmae: 'x' } as never), { message: /^daemonReload 'd': unknown param `nmae`/ });
  t.notThrows(() => sh`true`);
});
