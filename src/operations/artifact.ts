import { posix } from 'node:path';
import { sh, type ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import type { Facts } from '../facts/types.ts';
import { ArtifactCache } from '../artifacts/cache.ts';
import { describeElf } from '../artifacts/elf.ts';
import { resolveArtifact, type ArtifactSource, type PreparedArtifact } from '../artifacts/resolve.ts';
import { change, fail, noop, upload, type Command, type OpContext, type Operation, type Plan } from './operation.ts';
import { checkId, paramError, parseSections, section, paramNames, rejectUnknownParams } from './kit.ts';
import { atomicInstall } from './atomic-write.ts';

export interface ArtifactParams extends ArtifactSource {
  readonly id: string;
  /** Installed path on the host, e.g. /usr/local/bin/nomad */
  readonly dest: string;
  /** Octal mode, default 0755. */
  readonly mode?: string;
  /** Owner of the installed file (a user name); unset: the connecting user. */
  readonly owner?: string;
  /** Group of the installed file (a group name). */
  readonly group?: string;
  /** Run `<dest> ...args` after install (fail the op when it fails) and in the probe to report the version. */
  readonly versionCommand?: readonly string[];
  /** What the build links against; checked against the binary (ELF) and the host. */
  readonly libc?: 'musl' | 'glibc' | 'static';
  /** The architecture the build is for; checked against the binary (ELF) and the host. */
  readonly arch?: 'amd64' | 'arm64' | 'arm';
  /** Controller cache directory (default: $CAIRN_CACHE_DIR, $XDG_CACHE_HOME/cairn, ~/.cache/cairn). */
  readonly cacheDir?: string;
  readonly notify?: readonly string[];
}

export interface ArtifactOperation extends Operation {
  /**
   * Controller-side preparation, before planning: fetch once into the cache
   * (verifying the sha256 or the sums file), extract the member, inspect the
   * ELF header, check it against the declared libc/arch. Idempotent and shared
   * between hosts (memoized per process). plan() fails if it was not awaited.
   */
  prepare(): Promise<void>;
  /** The resolved binary, once prepared. */
  readonly prepared: PreparedArtifact | undefined;
}

const KIND = 'artifact';
const PARAMS = paramNames<ArtifactParams>({ id: true, url: true, file: true, sha256: true, extract: true, dest: true, mode: true, owner: true, group: true, versionCommand: true, libc: true, arch: true, cacheDir: true, notify: true });
const PATH = /^\/[A-Za-z0-9_.\/+@-]+$/;
const LIBCS = ['musl', 'glibc', 'static'] as const;
const ARCHES = ['amd64', 'arm64', 'arm'] as const;

/**
 * A binary installed from a controller-fetched, sha256-verified artifact.
 *
 * How it runs: the engine awaits `prepare()` (or `prepareArtifacts(ops)`) before
 * planning — everything that needs the network or the disk of the controller
 * happens there, once per run, before any change; plan() stays pure. The probe
 * hashes `dest` (`sha256sum`, busybox and coreutils). When the hash differs the
 * plan uploads the final binary to `<dest>.cairn-tmp`, verifies its sha256 on the
 * host, sets the mode, keeps a backup of the old binary and renames it into
 * place, then runs the version command. Bake mode: no version command.
 */
export function artifact(params: ArtifactParams): ArtifactOperation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  if (params.sha256 !== null && typeof params.sha256 === 'object') rejectUnknownParams(KIND, id, params.sha256, ['sumsFile', 'name'], 'sha256.');
  if (params.extract !== undefined) rejectUnknownParams(KIND, id, params.extract, ['member'], 'extract.');
  const bad = (param: string, problem: string, fix: string) => paramError(KIND, id, param, problem, fix);
  if ((params.url === undefined) === (params.file === undefined)) throw bad('url/file', 'needs exactly one of url and file', 'give url: https://... or file: ./path/on/the/controller');
  if (params.url !== undefined && (typeof params.url !== 'string' || !/^https?:\/\/\S+$/i.test(params.url))) throw bad('url', `must be an http(s) URL, got ${JSON.stringify(params.url)}`, 'e.g. url: https://releases.hashicorp.com/...');
  if (params.file !== undefined && (typeof params.file !== 'string' || params.file === '')) throw bad('file', 'must be a controller-side path', 'e.g. file: ./artifacts/nomad');
  const sha = params.sha256;
  if (typeof sha === 'string') {
    if (!/^[0-9a-fA-F]{64}$/.test(sha)) throw bad('sha256', `must be 64 hex digits, got ${JSON.stringify(sha)}`, 'copy it from the release SHA256SUMS, or use sha256: { sumsFile, name }');
  } else if (!sha || typeof sha !== 'object' || typeof sha.sumsFile !== 'string' || sha.sumsFile === '' || typeof sha.name !== 'string' || sha.name === '') {
    throw bad('sha256', 'must be a hex string or { sumsFile, name }', "e.g. sha256: { sumsFile: 'https://.../nomad_1.7.5_SHA256SUMS', name: 'nomad_1.7.5_linux_arm64.zip' }");
  }
  if (typeof params.dest !== 'string' || !PATH.test(params.dest) || params.dest.endsWith('/')) throw bad('dest', `must be an absolute file path, got ${JSON.stringify(params.dest)}`, 'e.g. dest: /usr/local/bin/nomad');
  if (params.extract !== undefined && (typeof params.extract.member !== 'string' || params.extract.member === '')) throw bad('extract.member', 'must name the file inside the archive', "e.g. extract: { member: 'nomad' }");
  const mode = params.mode ?? '0755';
  if (!/^0?[0-7]{3,4}$/.test(mode)) throw bad('mode', `must be an octal mode string, got ${JSON.stringify(mode)}`, "e.g. mode: '0755'");
  if (params.versionCommand !== undefined && (!Array.isArray(params.versionCommand) || params.versionCommand.length === 0 || params.versionCommand.some((a) => typeof a !== 'string'))) {
    throw bad('versionCommand', 'must be a non-empty list of arguments', "e.g. versionCommand: ['version'], or leave it out");
  }
  if (params.libc !== undefined && !LIBCS.includes(params.libc)) throw bad('libc', `must be one of ${LIBCS.join(', ')}, got ${JSON.stringify(params.libc)}`, 'say what the build links against');
  if (params.arch !== undefined && !ARCHES.includes(params.arch)) throw bad('arch', `must be one of ${ARCHES.join(', ')}, got ${JSON.stringify(params.arch)}`, 'use the release naming: amd64, arm64, arm');
  for (const p of ['owner', 'group'] as const) {
    const v = params[p];
    if (v !== undefined && !/^[a-z_][a-z0-9_-]*$|^\d+$/.test(v)) throw bad(p, `must be a user/group name or number, got ${JSON.stringify(v)}`, `e.g. ${p}: root`);
  }

  const dest = params.dest;
  const tmp = `${dest}.cairn-tmp`;
  const versionArgs = params.versionCommand;
  const label = posix.basename(dest);
  let prepared: PreparedArtifact | undefined;

  return {
    kind: KIND,
    id,
    ...(params.notify ? { notify: params.notify } : {}),
    get prepared() {
      return prepared;
    },
    async prepare(): Promise<void> {
      if (prepared) return;
      const cache = new ArtifactCache(params.cacheDir);
      let p: PreparedArtifact;
      try {
        p = await resolveArtifact(params, { cache });
      } catch (err) {
        throw new Error(`artifact '${id}' (${label}): ${(err as Error).message}`, { cause: err });
      }
      const mislabel = checkDeclared(p, params);
      if (mislabel) throw new Error(`artifact '${id}' (${label}): ${mislabel}`);
      prepared = p;
    },
    probe(ctx: OpContext): ShellCommand {
      const version =
        prepared && versionArgs && !ctx.bake
          ? sh`
  if [ "$h" = ${prepared.sha256} ]; then ${section('version', sh`${dest} ${versionArgs} 2>&1 </dev/null | head -n 5`)}
  fi`
          : sh``;
      return sh`if [ -e ${dest} ]; then h=$(sha256sum ${dest} | cut -d ' ' -f 1)
  ${section('sha', sh`echo "$h"`)}${version}
fi`;
    },
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      if (!prepared) return fail(`artifact '${id}' was not prepared: the engine must await prepare() (or prepareArtifacts) before planning`);
      const host = hostProblem(prepared, params, ctx.facts, ctx.host);
      if (host.fail) return fail(host.fail);
      const s = parseSections(probe?.stdout ?? '');
      const current = s.get('sha')?.trim();
      const short = prepared.sha256.slice(0, 12);
      if (current === prepared.sha256) {
        const v = s.get('version')?.split('\n')[0]?.trim();
        return noop(`${dest} is up to date (sha256 ${short}…)${v ? `: ${v}` : ''}`);
      }
      const cmds: Command[] = [
        sh`mkdir -p ${posix.dirname(dest)}`,
        upload(tmp, prepared.content, `${label} from ${prepared.source} (${prepared.content.length} bytes)`, 0o600),
        atomicInstall(sh`printf '%s  %s\\n' ${prepared.sha256} ${tmp} | sha256sum -c -`, tmp, dest, {
          mode,
          ...(params.owner ? { owner: params.owner } : {}),
          ...(params.group ? { group: params.group } : {}),
        }),
      ];
      if (versionArgs && !ctx.bake) {
        const what = `cairn: ${[dest, ...versionArgs].join(' ')} failed after install (the previous binary is kept as ${dest}.cairn-bak.<time>)`;
        cmds.push(sh`out=$(${dest} ${versionArgs} 2>&1 </dev/null) || { printf '%s\\n' "$out" >&2; echo ${what} >&2; exit 1; }
printf '%s\\n' "$out" | head -n 5`);
      }
      const diff = `${dest}: sha256 ${current || '(absent)'} -> ${prepared.sha256}`;
      return change(`install ${dest} from ${prepared.source} (sha256 ${short}…)`, cmds, diff, host.warnings.length ? host.warnings : undefined);
    },
  };
}

/** A binary whose ELF header contradicts its declared libc/arch (a mislabelled artifact). */
function checkDeclared(p: PreparedArtifact, params: ArtifactParams): string | undefined {
  if (!p.elf) {
    return params.libc || params.arch ? `${p.source} is not an ELF binary, but the step declares ${[params.libc, params.arch].filter(Boolean).join(' ')}` : undefined;
  }
  if (params.arch && p.elf.arch !== params.arch) return `declared arch ${params.arch}, but the ELF header of ${p.source} says ${describeElf(p.elf)}`;
  if (params.libc && p.elf.libc !== params.libc) return `declared libc ${params.libc}, but the ELF header of ${p.source} says ${describeElf(p.elf)}`;
  return undefined;
}

/** Can this binary run on this host? (libc and CPU from the facts). */
function hostProblem(p: PreparedArtifact, params: ArtifactParams, facts: Facts, host: string): { fail?: string; warnings: string[] } {
  const warnings: string[] = [];
  const libc = params.libc ?? (p.elf?.libc === 'other' ? undefined : p.elf?.libc);
  const arch = params.arch ?? p.elf?.arch;
  const label = posix.basename(params.dest);
  if (arch) {
    if (facts.arch === 'unknown') warnings.push(`${host}'s arch is unknown (uname -m: ${facts.machine}): cannot check that the ${arch} build of ${label} runs there`);
    else if (arch !== facts.arch) return { fail: `${arch} build of ${label} aimed at ${facts.arch} host ${host} (uname -m: ${facts.machine}): use the ${facts.arch} artifact`, warnings };
  }
  if (libc === 'glibc' || libc === 'musl') {
    if (facts.libc === 'unknown') warnings.push(`${host}'s libc is unknown: cannot check that the ${libc} build of ${label} runs there`);
    else if (libc === 'glibc' && facts.libc === 'musl') {
      return {
        fail:
          `glibc build of ${label} aimed at musl host ${host}: it would fail with './${label}: not found' (its loader ${p.elf?.interpreter ?? 'ld-linux'} does not exist there; ` +
          `official Nomad zips link glibc); use a musl build (Alpine's community package, e.g. community/nomad, or a musl artifact) or a static one`,
        warnings,
      };
    } else if (libc === 'musl' && facts.libc === 'glibc') {
      return { fail: `musl build of ${label} aimed at glibc host ${host}: its loader ${p.elf?.interpreter ?? 'ld-musl'} does not exist there; use a glibc or static build`, warnings };
    }
  }
  return { warnings };
}

/** Has this operation a controller-side preparation? */
export function isPreparable(op: Operation): op is Operation & { prepare(): Promise<void> } {
  return typeof (op as { prepare?: unknown }).prepare === 'function';
}

/**
 * Prepare every preparable op at once (downloads run in parallel) and report
 * every failure together, as one error, so a run stops before touching hosts.
 */
export async function prepareArtifacts(ops: readonly Operation[]): Promise<void> {
  const results = await Promise.allSettled(ops.filter(isPreparable).map((op) => op.prepare()));
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  if (errors.length) throw new Error(`${errors.length} artifact(s) could not be prepared:\n  ${errors.join('\n  ')}`);
}
