import test from 'ava';
import cni, { cniSource, tarballName, DEFAULTS } from '../../../roles/cni/index.ts';
import { alpineFacts, debianFacts, roleContext, stepIds, validate, withFacts } from './_base.ts';

const here = new URL(import.meta.url).pathname;

test('the official release with its .sha256 when no artifact is given for the arch', (t) => {
  t.deepEqual(cniSource(DEFAULTS, 'arm64'), {
    url: 'https://github.com/containernetworking/plugins/releases/download/v1.4.0/cni-plugins-linux-arm64-v1.4.0.tgz',
    sha256: {
      sumsFile: 'https://github.com/containernetworking/plugins/releases/download/v1.4.0/cni-plugins-linux-arm64-v1.4.0.tgz.sha256',
      name: 'cni-plugins-linux-arm64-v1.4.0.tgz',
    },
  });
  t.is(tarballName('amd64', '1.4.0'), 'cni-plugins-linux-amd64-v1.4.0.tgz');
  t.regex(String(cniSource(DEFAULTS, 'unknown')), /no CNI plugin release for arch 'unknown'/);
});

test('a per-arch artifact: a controller file with a hex sha256 or a sums file', (t) => {
  const vars = { ...DEFAULTS, cni_artifacts: { amd64: { file: here, sha256: 'a'.repeat(64) }, arm64: { file: here, sha256_file: `${here}.sha256` } } };
  t.deepEqual(cniSource(vars, 'amd64'), { file: here, sha256: 'a'.repeat(64) });
  t.deepEqual(cniSource(vars, 'arm64'), { file: here, sha256: { sumsFile: `${here}.sha256`, name: 'cni.test.ts' } });
});

test('steps: tarball (artifact), extraction into cni_path (archive), then the plugin check', (t) => {
  t.deepEqual(stepIds(cni, roleContext(cni, {}, debianFacts)), ['tarball', 'plugins', 'check']);
  const steps = cni.steps(roleContext(cni, { cni_path: '/usr/libexec/cni' }, alpineFacts));
  t.deepEqual(steps.map((s) => s.kind), ['artifact', 'archive', 'cniPlugins']);
  t.true(steps[2]!.barrier, 'the check re-probes after the extraction');
  const odd = cni.steps(roleContext(cni, {}, withFacts(debianFacts, { arch: 'unknown', machine: 'riscv64' })));
  t.regex(JSON.stringify(odd[0]!.plan(undefined, { host: 'h1', facts: debianFacts, bake: false })), /no CNI plugin release for arch 'unknown' \(uname -m: riscv64\): set cni_artifacts\.unknown/);
});

test('vars are validated before any connection', (t) => {
  t.deepEqual(validate(cni, {}), []);
  const p = validate(cni, {
    cni_version: 1.4,
    cni_path: 'opt/cni/bin',
    cni_artifacts: { amd64: { file: '/nonexistent/cni.tgz', sha256: 'xyz' }, sparc: { url: 'ftp://x' }, arm64: { url: 'https://x/y.tgz', file: here, sha256: 'a'.repeat(64), sha256_file: 'x' } },
  });
  const all = p.map((x) => x.message).join('\n');
  for (const re of [
    /cni_version must be a version x\.y\.z, got 1\.4/,
    /cni_path must be an absolute path/,
    /cni_artifacts\.amd64\.file is not a file on the controller: "\/nonexistent\/cni\.tgz"/,
    /cni_artifacts\.amd64\.sha256 must be 64 hex digits/,
    /cni_artifacts\.sparc is not an arch cairn knows/,
    /cni_artifacts\.sparc\.url must be an http\(s\) URL/,
    /cni_artifacts\.arm64 needs exactly one of url and file/,
    /cni_artifacts\.arm64 needs exactly one of sha256 and sha256_file/,
  ]) {
    t.regex(all, re);
  }
});
