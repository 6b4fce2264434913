import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStandin } from '../../agent/standin.ts';
import { lookupOrder, parseArtifacts, pickArtifact } from '../../../roles/artifacts/lookup.ts';
import type { Operation } from '../../../src/operations/operation.ts';
import { FACTS, ctxFor, inventory, role, validationCtx } from './_nomad-consul.ts';

process.env.CAIRN_CACHE_DIR ??= mkdtempSync(join(tmpdir(), 'cairn-cache-'));
const a = buildStandin();
const D = a.dir;

const INV = (artifacts: string) => `
vars:
  nomad_version: ${a.nomadVersion}
  consul_version: ${a.consulVersion}
${artifacts}
hosts:
  alp: {}
groups:
  g: { hosts: [alp], roles: [artifacts] }
`;

const FULL = `  nomad_artifacts:
    musl_amd64: { file: "${D}/nomad_{version}_linux_amd64_musl.zip", sums: "${D}/nomad_{version}_SHA256SUMS" }
    glibc_amd64: { file: "${D}/nomad_{version}_linux_amd64.zip", sums: "${D}/nomad_{version}_SHA256SUMS" }
    static_arm64: { file: "${D}/nomad_{version}_linux_arm64_musl.zip", sums: "${D}/nomad_{version}_SHA256SUMS" }
    glibc_arm64: { file: "${D}/nomad_{version}_linux_arm64.zip", sums: "${D}/nomad_{version}_SHA256SUMS" }
  consul_artifacts:
    static_amd64: { file: "${D}/consul_{version}_linux_amd64.zip", sums: "${D}/consul_{version}_SHA256SUMS" }
    static_arm64: { file: "${D}/consul_{version}_linux_arm64.zip", sums: "${D}/consul_{version}_SHA256SUMS" }`;

const absent = { command: '', durationMs: 0, exitCode: 0, stdout: '', stderr: '' };

async function plan(op: Operation, facts = FACTS.alpine) {
  await (op as Operation & { prepare(): Promise<void> }).prepare();
  return op.plan(absent, { host: 'alp', facts, bake: false });
}

test('lookup order: exact libc_arch, static_arch, default, then the other libc', (t) => {
  t.deepEqual(lookupOrder({ libc: 'musl', arch: 'amd64' }), ['musl_amd64', 'static_amd64', 'default', 'glibc_amd64']);
  t.deepEqual(lookupOrder({ libc: 'glibc', arch: 'arm64' }), ['glibc_arm64', 'static_arm64', 'default', 'musl_arm64']);
  t.deepEqual(lookupOrder({ libc: 'unknown', arch: 'arm' }), ['static_arm', 'default', 'musl_arm', 'glibc_arm']);
});

test('entries: {version} substituted, sums name = the file name, zip member = the product', (t) => {
  const { entries, problems } = parseArtifacts('nomad', { nomad_version: '1.9.7', nomad_artifacts: { musl_amd64: { file: `${D}/nomad_{version}_linux_amd64_musl.zip`, sums: `${D}/nomad_{version}_SHA256SUMS` } } }, '/');
  t.deepEqual(problems, []);
  t.deepEqual(entries.get('musl_amd64'), { key: 'musl_amd64', file: `${D}/nomad_1.9.7_linux_amd64_musl.zip`, sums: `${D}/nomad_1.9.7_SHA256SUMS`, sumsName: 'nomad_1.9.7_linux_amd64_musl.zip', member: 'nomad', arch: 'amd64' });
  const picked = pickArtifact('nomad', entries, { libc: 'glibc', arch: 'arm64', machine: 'aarch64' }, 'pi');
  t.regex('error' in picked ? picked.error : '', /no nomad artifact for pi \(glibc arm64, uname -m: aarch64\): looked up glibc_arm64, static_arm64, default, musl_arm64 .* has musl_amd64/);
});

test('validate: every problem before connecting, each at its line', async (t) => {
  const r = await role('artifacts');
  const yaml = INV(`  nomad_artifacts:
    musl_x86_64: { file: a.zip, sha256: abc }
    glibc_amd64: { file: missing.zip, sha256: ${'a'.repeat(64)}, sums: x }
    musl_arm64: { url: https://example.invalid/n.zip, sha256: xyz }`).replace('hosts:', 'hosts:') + '';
  const ps = r.def.validate!(validationCtx(r, inventory(yaml)));
  const text = ps.map((p) => `${p.location.line}: ${p.message}`).join('\n');
  t.regex(text, /6: nomad_artifacts.musl_x86_64: unknown key 'musl_x86_64'/);
  t.regex(text, /7: nomad_artifacts.glibc_amd64 needs exactly one of sha256 .* and sums/);
  t.regex(text, /8: nomad_artifacts.musl_arm64.sha256 must be 64 hex digits/);
  t.regex(text, /consul_artifacts is not set/);
  const ok = r.def.validate!(validationCtx(r, inventory(INV(FULL))));
  t.deepEqual(ok, []);
  const missing = r.def.validate!(validationCtx(r, inventory(INV(FULL.replace('_linux_amd64_musl.zip', '_linux_amd64_nope.zip')))));
  t.regex(missing[0]!.message, /nomad_artifacts.musl_amd64.file: .*nomad_1.9.7_linux_amd64_nope.zip does not exist on this machine/);
});

test('musl x86_64 host: the musl nomad and the static consul, verified, with a version check after install', async (t) => {
  const r = await role('artifacts');
  const ops = r.def.steps(ctxFor(r, inventory(INV(FULL)), 'alp', FACTS.alpine));
  t.deepEqual(ops.map((o) => `${o.kind}:${o.id}`), ['artifact:nomad', 'version:nomad-version', 'artifact:consul', 'version:consul-version']);
  const p = await plan(ops[0]!);
  t.is(p.kind, 'change');
  t.regex(p.kind === 'change' ? p.reason : '', /install \/usr\/local\/bin\/nomad from .*nomad_1.9.7_linux_amd64_musl.zip!nomad/);
  t.true(ops[1]!.barrier);
  const v = ops[1]!.plan({ ...absent, stdout: 'Nomad v1.9.7\nBuildDate x\n' }, { host: 'alp', facts: FACTS.alpine, bake: false });
  t.is(v.kind, 'noop');
  const wrong = ops[1]!.plan({ ...absent, stdout: 'Nomad v1.8.0\n' }, { host: 'alp', facts: FACTS.alpine, bake: false });
  t.regex(wrong.kind === 'fail' ? wrong.message : '', /version says 'Nomad v1.8.0', but nomad_version is 1.9.7/);
});

test('aarch64 Alpine: the static arm64 build; Debian aarch64: the glibc one', async (t) => {
  const r = await role('artifacts');
  const inv = inventory(INV(FULL));
  const arm = r.def.steps(ctxFor(r, inv, 'alp', FACTS.alpine37arm));
  const p = await plan(arm[0]!, FACTS.alpine37arm);
  t.regex(p.kind === 'change' ? p.reason : JSON.stringify(p), /nomad_1.9.7_linux_arm64_musl.zip/);
  const deb = { ...FACTS.debian, machine: 'aarch64', arch: 'arm64' as const };
  const d = r.def.steps(ctxFor(r, inv, 'alp', deb));
  const pd = await plan(d[0]!, deb);
  t.regex(pd.kind === 'change' ? pd.reason : JSON.stringify(pd), /nomad_1.9.7_linux_arm64.zip/);
});

test('a glibc Nomad aimed at a musl host is refused by the artifact step with the reason', async (t) => {
  const r = await role('artifacts');
  const only = INV(`  artifacts_products: [nomad]
  nomad_artifacts:
    glibc_amd64: { file: "${D}/nomad_{version}_linux_amd64.zip", sums: "${D}/nomad_{version}_SHA256SUMS" }`);
  const ops = r.def.steps(ctxFor(r, inventory(only), 'alp', FACTS.alpine));
  const p = await plan(ops[0]!);
  t.is(p.kind, 'fail');
  t.regex(p.kind === 'fail' ? p.message : '', /glibc build of nomad aimed at musl host alp: it would fail with '\.\/nomad: not found'/);
});

test('no entry for the arch: a failing step naming what was looked up', async (t) => {
  const r = await role('artifacts');
  const only = INV(`  artifacts_products: [consul]
  consul_artifacts:
    static_amd64: { file: "${D}/consul_{version}_linux_amd64.zip", sums: "${D}/consul_{version}_SHA256SUMS" }`);
  const ops = r.def.steps(ctxFor(r, inventory(only), 'alp', FACTS.alpine37arm));
  const p = ops[0]!.plan(undefined, { host: 'alp', facts: FACTS.alpine37arm, bake: false });
  t.regex(p.kind === 'fail' ? p.message : '', /no consul artifact for alp \(musl arm64, uname -m: aarch64\): looked up musl_arm64, static_arm64, default, glibc_arm64/);
});
