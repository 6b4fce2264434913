import test from 'ava';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { kernelModule, listsModule, type KernelModuleParams } from '../../../src/operations/kernel-module.ts';
import { AlpineChroot, chrootUnavailable, ctx, alpine, debian, planCase, result, summary, expectWrite, type PlanCase } from './_sysops.ts';

const MODPROBE = "modprobe br_netfilter || { echo 'cairn: could not load kernel module br_netfilter (modprobe'\\''s message above)' >&2; exit 1; }";
const p = (over: Partial<KernelModuleParams> = {}): KernelModuleParams => ({ id: 'm', name: 'br_netfilter', ...over });
const live = { 'modules-dir': '/lib/modules/6.6.0', release: '6.6.0', modprobe: '/sbin/modprobe' };

const cases: PlanCase<KernelModuleParams>[] = [
  {
    title: 'loaded and persisted -> noop',
    params: p(),
    probe: { persist: 'af_packet\nbr_netfilter', loaded: 'yes', ...live },
    expect: { kind: 'noop', text: /loaded, listed in \/etc\/modules/ },
  },
  {
    title: 'alpine: load and append to /etc/modules (keeping its lines)',
    params: p(),
    probe: { persist: 'af_packet\nipv6', ...live },
    expect: { kind: 'change', commands: [MODPROBE, expectWrite('/etc/modules', 'af_packet\nipv6\nbr_netfilter\n')] },
  },
  {
    title: 'systemd: its own modules-load.d file',
    params: p(),
    facts: debian,
    probe: { ...live },
    expect: { kind: 'change', commands: [MODPROBE, expectWrite('/etc/modules-load.d/cairn-br_netfilter.conf', 'br_netfilter\n')] },
  },
  {
    title: 'built in (modules.builtin) -> nothing to load',
    params: p(),
    probe: { persist: 'br_netfilter', builtin: 'yes', ...live },
    expect: { kind: 'noop', text: /built in/ },
  },
  {
    title: 'dash and underscore are the same module',
    params: p({ name: 'br-netfilter' }),
    probe: { persist: 'br_netfilter # bridge', loaded: 'yes', ...live },
    expect: { kind: 'noop' },
  },
  {
    title: 'a container without /lib/modules -> clear failure naming the module',
    params: p(),
    probe: { persist: 'br_netfilter', release: '6.18.0', modprobe: '/sbin/modprobe' },
    expect: { kind: 'fail', text: /kernel module br_netfilter is not loaded and cannot be loaded on h1: \/lib\/modules\/6\.18\.0 does not exist/ },
  },
  {
    title: 'no modprobe -> fail',
    params: p(),
    probe: { persist: 'br_netfilter', 'modules-dir': '/lib/modules/6.6.0', release: '6.6.0', modprobe: '' },
    expect: { kind: 'fail', text: /modprobe is not installed/ },
  },
  {
    title: 'persist: false -> load only',
    params: p({ persist: false }),
    probe: { ...live },
    expect: { kind: 'change', commands: [MODPROBE] },
  },
  {
    title: 'bake: persist only',
    params: p(),
    bake: true,
    probe: {},
    expect: { kind: 'change', commands: [expectWrite('/etc/modules', 'br_netfilter\n')] },
  },
  {
    title: 'bake: already listed -> noop',
    params: p(),
    bake: true,
    probe: { persist: 'br_netfilter' },
    expect: { kind: 'noop', text: /bake: not loaded now/ },
  },
];

for (const c of cases) {
  test(`kernelModule: ${c.title}`, (t) => {
    const s = summary(planCase(kernelModule(c.params), c));
    t.is(s.kind, c.expect.kind, s.text);
    if (c.expect.commands) t.deepEqual(s.commands, c.expect.commands);
    if (c.expect.text) t.regex(s.text, c.expect.text);
  });
}

test('kernelModule: bake probe reads only the persist file; persist: false + bake has no probe', (t) => {
  t.notRegex(kernelModule(p()).probe(ctx(alpine, true))!.display, /proc|modprobe/);
  t.is(kernelModule(p({ persist: false })).probe(ctx(alpine, true)), undefined);
});

test('kernelModule: rejects a bad name', (t) => {
  t.throws(() => kernelModule(p({ name: 'br netfilter' })), { message: /kernelModule 'm': param `name` must be a module name/ });
  t.throws(() => kernelModule(p({ name: '-r' })), { message: /must be a module name/ });
});

test('listsModule ignores comments', (t) => {
  t.true(listsModule('# x\nbr_netfilter\n', 'br-netfilter'));
  t.false(listsModule('# br_netfilter\n', 'br_netfilter'));
  t.false(listsModule(undefined, 'x'));
});

test('kernelModule: the live probe runs on this controller (dash)', (t) => {
  const run = (name: string) => {
    const op = kernelModule({ id: 'm', name, persist: false });
    const r = spawnSync('/bin/sh', ['-c', op.probe(ctx(debian))!.text], { encoding: 'utf8' });
    return summary(op.plan(result(r.stdout), ctx(debian)));
  };
  // /sys/module/<name> exists for loaded modules and built-ins with parameters
  if (existsSync('/sys/module/printk')) t.is(run('printk').kind, 'noop');
  const absent = run('cairn_no_such_module');
  if (existsSync(`/lib/modules`)) t.is(absent.kind, 'change');
  else t.regex(absent.text, /cairn_no_such_module is not loaded and cannot be loaded on h1: \/lib\/modules\/.* does not exist/);
});

const why = chrootUnavailable();
test('kernelModule: bake mode in an Alpine 3.19 chroot appends to /etc/modules once', (t) => {
  if (why) return t.pass(`skipped: ${why}`);
  const root = new AlpineChroot();
  try {
    const before = root.sh('cat /etc/modules').stdout;
    const op = kernelModule(p());
    t.deepEqual(root.apply(op).errors, []);
    t.is(root.apply(op).plan.kind, 'noop');
    t.is(root.sh('cat /etc/modules').stdout, `${before.replace(/\n*$/, '')}\nbr_netfilter\n`.replace(/^\n/, ''));
  } finally {
    root.remove();
  }
});
