// Built-in role `cni`: the CNI reference plugins Nomad's bridge networking runs,
// from a sha256-verified release tarball, extracted into cni_path, then checked:
// every required plugin present, and the bridge plugin's own version >= 1.3.0
// (Nomad's CNI CHECK on restore, hashicorp/nomad#24292).
// Vars and behaviour: docs/roles-host.md.
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { archive, artifact, checkVars, cniPlugins, defineRole, fail, isMap, stringList, type Operation, type VarProblem, type Vars } from 'cairn-provision';

export const MIN_BRIDGE_VERSION = '1.3.0';

export const DEFAULTS = {
  cni_version: '1.4.0',
  /** Where the plugins go; Nomad's client `cni_path` (the nomad role reads the same var). */
  cni_path: '/opt/cni/bin',
  /**
   * The tarball per arch: { url | file, sha256 | sha256_file }. An arch without an
   * entry uses cni_url (the official release) verified by its published .sha256.
   */
  cni_artifacts: {} as Readonly<Record<string, CniArtifact>>,
  cni_url: 'https://github.com/containernetworking/plugins/releases/download/v{version}/cni-plugins-linux-{arch}-v{version}.tgz',
  cni_required_plugins: ['loopback', 'bridge', 'host-local', 'firewall', 'portmap'],
  /** Where the tarball is kept on the host (the extraction is skipped while it is unchanged). */
  cni_archive_dir: '/var/lib/cairn/artifacts',
};

const ARCHES = ['amd64', 'arm64', 'arm'] as const;
const PLUGIN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const ABS = /^\/[A-Za-z0-9_.\/+@-]+$/;

/** One cni_artifacts entry, as cniVarProblems() leaves it. */
export interface CniArtifact {
  readonly url?: string;
  readonly file?: string;
  readonly sha256?: string;
  readonly sha256_file?: string;
}

/** The vars of the role, as validate() leaves them. */
export type CniVars = typeof DEFAULTS;

export interface CniSource {
  readonly url?: string;
  readonly file?: string;
  readonly sha256: string | { readonly sumsFile: string; readonly name: string };
}

/** The tarball's file name for an arch and version, as the releases name it. */
export const tarballName = (arch: string, version: string): string => `cni-plugins-linux-${arch}-v${version}.tgz`;

/** Where the tarball for `arch` comes from (pure): the cni_artifacts entry, else the official URL. */
export function cniSource(vars: CniVars, arch: string): CniSource | string {
  const version = vars.cni_version;
  const entry = vars.cni_artifacts[arch];
  if (entry) {
    const sha: CniSource['sha256'] =
      typeof entry.sha256 === 'string'
        ? entry.sha256
        : { sumsFile: String(entry.sha256_file), name: posix.basename(String(entry.url ?? entry.file)) };
    return { ...(entry.url ? { url: entry.url } : { file: String(entry.file) }), sha256: sha };
  }
  if (!(ARCHES as readonly string[]).includes(arch)) return `no CNI plugin release for arch '${arch}'`;
  const url = vars.cni_url.replace(/\{version\}/g, version).replace(/\{arch\}/g, arch);
  return { url, sha256: { sumsFile: `${url}.sha256`, name: posix.basename(url) } };
}

export function cniVarProblems(vars: Vars): VarProblem[] {
  const out: VarProblem[] = [];
  if (typeof vars.cni_version !== 'string' || !/^\d+\.\d+\.\d+$/.test(vars.cni_version)) {
    out.push({ var: 'cni_version', message: `must be a version x.y.z, got ${JSON.stringify(vars.cni_version)}`, fix: "e.g. cni_version: '1.4.0' (quoted)" });
  }
  for (const v of ['cni_path', 'cni_archive_dir'] as const) {
    const path = vars[v];
    if (typeof path !== 'string' || !ABS.test(path)) out.push({ var: v, message: `must be an absolute path, got ${JSON.stringify(vars[v])}`, fix: `e.g. ${v}: ${DEFAULTS[v]}` });
  }
  if (typeof vars.cni_url !== 'string' || !/^https?:\/\/\S+$/.test(vars.cni_url)) out.push({ var: 'cni_url', message: `must be an http(s) URL pattern, got ${JSON.stringify(vars.cni_url)}`, fix: `e.g. cni_url: ${DEFAULTS.cni_url}` });
  out.push(...stringList('cni_required_plugins', vars.cni_required_plugins, PLUGIN, '[loopback, bridge, host-local, firewall, portmap]'));
  const arts = vars.cni_artifacts;
  if (!isMap(arts)) {
    out.push({ var: 'cni_artifacts', message: `must be a map of arch to tarball, got ${JSON.stringify(arts)}`, fix: 'e.g. cni_artifacts: { arm64: { file: ./cni-plugins-linux-arm64-v1.4.0.tgz, sha256: <64 hex> } }' });
    return out;
  }
  for (const [arch, e] of Object.entries(arts)) {
    const name = `cni_artifacts.${arch}`;
    if (!(ARCHES as readonly string[]).includes(arch)) out.push({ var: name, message: `is not an arch cairn knows (${ARCHES.join(', ')})`, fix: 'use the release naming: amd64, arm64, arm' });
    if (!isMap(e)) {
      out.push({ var: name, message: `must be a map { url | file, sha256 | sha256_file }, got ${JSON.stringify(e)}`, fix: `e.g. ${name}: { file: ./${tarballName(arch, '1.4.0')}, sha256: <64 hex> }` });
      continue;
    }
    const unknown = Object.keys(e).filter((k) => !['url', 'file', 'sha256', 'sha256_file'].includes(k));
    if (unknown.length) out.push({ var: name, message: `has unknown keys ${unknown.join(', ')}`, fix: 'use url or file, and sha256 or sha256_file' });
    if ((e.url === undefined) === (e.file === undefined)) out.push({ var: name, message: 'needs exactly one of url and file', fix: 'url: https://... (fetched by the controller) or file: a path on the controller' });
    if (e.url !== undefined && (typeof e.url !== 'string' || !/^https?:\/\/\S+$/.test(e.url))) out.push({ var: `${name}.url`, message: `must be an http(s) URL, got ${JSON.stringify(e.url)}`, fix: 'e.g. https://github.com/containernetworking/plugins/releases/download/v1.4.0/...' });
    if (e.file !== undefined && (typeof e.file !== 'string' || !existsSync(e.file))) out.push({ var: `${name}.file`, message: `is not a file on the controller: ${JSON.stringify(e.file)}`, fix: 'give the path of the downloaded tarball (relative paths: from the working directory)' });
    if ((e.sha256 === undefined) === (e.sha256_file === undefined)) out.push({ var: name, message: 'needs exactly one of sha256 and sha256_file', fix: 'sha256: <64 hex digits>, or sha256_file: the release .sha256 file (URL or controller path)' });
    if (e.sha256 !== undefined && (typeof e.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(e.sha256))) out.push({ var: `${name}.sha256`, message: `must be 64 hex digits, got ${JSON.stringify(e.sha256)}`, fix: 'copy it from the release .sha256 file' });
    if (e.sha256_file !== undefined && typeof e.sha256_file !== 'string') out.push({ var: `${name}.sha256_file`, message: `must be a URL or a controller path, got ${JSON.stringify(e.sha256_file)}`, fix: 'e.g. the .tgz.sha256 next to the tarball' });
  }
  return out;
}

export default defineRole({
  name: 'cni',
  description: 'CNI plugins (sha256-verified tarball) in cni_path, bridge plugin version >= 1.3.0',
  defaults: DEFAULTS,
  validate: (ctx) => checkVars('cni', ctx, (vars) => cniVarProblems(vars)),
  steps(ctx) {
    const v = ctx.vars;
    const arch = ctx.facts.arch;
    const version = v.cni_version;
    const cniPath = v.cni_path;
    const src = cniSource(v, arch);
    if (typeof src === 'string') {
      const message = `${src} (uname -m: ${ctx.facts.machine}): set cni_artifacts.${arch} to a tarball for this host`;
      return [{ kind: 'artifact', id: 'tarball', probe: () => undefined, plan: () => fail(message) } satisfies Operation];
    }
    const onHost = `${v.cni_archive_dir}/${tarballName(arch, version)}`;
    return [
      artifact({ id: 'tarball', ...src, dest: onHost, mode: '0644' }),
      archive({ id: 'plugins', hostSrc: onHost, dest: cniPath }),
      cniPlugins({ id: 'check', dir: cniPath, required: v.cni_required_plugins, minBridgeVersion: MIN_BRIDGE_VERSION, onlyIf: cniPath }),
    ];
  },
});
