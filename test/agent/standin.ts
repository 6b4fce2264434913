// Helpers around the cairn stand-in agent (test/agent/agent.c) and its
// release-shaped artifacts (test/agent/build.sh). Usable from any test:
//
//   const a = buildStandin();                       // cached build, ~5 s cold
//   a.zip('nomad', 'amd64', 'musl')                  // .../nomad_1.9.7_linux_amd64_musl.zip
//   const ag = await startAgent({ bin: a.bin('nomad', 'amd64_glibc'), configDir });
//   await ag.get('/v1/agent/health'); await ag.stop('SIGINT');
//
// Only ever signals processes it spawned itself.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, openSync, readFileSync, readSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listZip, readZipEntry } from '../../src/artifacts/zip.ts';
import { inspectElf } from '../../src/artifacts/elf.ts';

export const AGENT_SRC_DIR = dirname(fileURLToPath(import.meta.url));
export const BUILD_SCRIPT = join(AGENT_SRC_DIR, 'build.sh');
export const VERIFY_SCRIPT = join(AGENT_SRC_DIR, 'verify-rootfs.sh');

export type Product = 'nomad' | 'consul';
export type Arch = 'amd64' | 'arm64';
export type Flavour = 'glibc' | 'musl';
/** raw binaries in OUTDIR/bin: <product>_linux_<target> */
export type Target = 'amd64_glibc' | 'amd64_musl' | 'arm64_glibc' | 'arm64_static';

export interface ManifestEntry {
  file: string;
  product: Product | 'cni';
  version: string;
  arch: Arch;
  flavour: Flavour | 'any';
  linkage: 'dynamic' | 'static';
  sha256: string;
}
export interface Manifest {
  stamp: string;
  nomad_version: string;
  consul_version: string;
  cni_versions: string[];
  artifacts: ManifestEntry[];
  bin: Record<string, string>;
}

export interface StandinArtifacts {
  dir: string;
  manifest: Manifest;
  nomadVersion: string;
  consulVersion: string;
  /** raw binary, e.g. bin('nomad', 'amd64_glibc') */
  bin(product: Product, target: Target): string;
  /** release zip path; flavour 'musl' adds the _musl suffix */
  zip(product: Product, arch: Arch, flavour?: Flavour): string;
  /** <product>_<version>_SHA256SUMS */
  sums(product: Product): string;
  /** cni-plugins-linux-<arch>-v<version>.tgz (+ '.sha256' next to it) */
  cni(arch: Arch, version: string): string;
  /** stderr of the build.sh run ("up to date" when cached) */
  buildLog: string;
}

function writableDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** CAIRN_AGENT_DIR, else /var/cache/cairn-agent if writable, else $TMPDIR/cairn-agent-<uid>. */
export function defaultOutDir(): string {
  const env = process.env['CAIRN_AGENT_DIR'];
  if (env) return env;
  if (writableDir('/var/cache/cairn-agent')) return '/var/cache/cairn-agent';
  return join(tmpdir(), `cairn-agent-${process.getuid?.() ?? 'u'}`);
}

/** Runs build.sh (cached, concurrency-safe) and describes the artifacts. Throws on failure. */
export function buildStandin(outDir: string = defaultOutDir(), env: NodeJS.ProcessEnv = {}): StandinArtifacts {
  const r = spawnSync('sh', [BUILD_SCRIPT, outDir], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 5 * 60_000,
  });
  if (r.status !== 0) {
    throw new Error(`build.sh ${outDir} failed (status ${r.status}, ${r.error?.message ?? ''}):\n${r.stderr}`);
  }
  const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) as Manifest;
  const version = (p: Product) => (p === 'nomad' ? manifest.nomad_version : manifest.consul_version);
  return {
    dir: outDir,
    manifest,
    nomadVersion: manifest.nomad_version,
    consulVersion: manifest.consul_version,
    buildLog: r.stderr,
    bin: (p, t) => join(outDir, 'bin', `${p}_linux_${t}`),
    zip: (p, a, f = 'glibc') => join(outDir, `${p}_${version(p)}_linux_${a}${f === 'musl' ? '_musl' : ''}.zip`),
    sums: (p) => join(outDir, `${p}_${version(p)}_SHA256SUMS`),
    cni: (a, v) => join(outDir, `cni-plugins-linux-${a}-v${v}.tgz`),
  };
}

// ------------------------------------------------------------------ zip

export interface ZipEntry {
  name: string;
  /** unix mode from the external attributes (0 when not made on unix) */
  mode: number;
  data: Buffer;
}

/** The entries of a zip with their bytes (cairn's own reader, src/artifacts/zip.ts). */
export function readZip(path: string): ZipEntry[] {
  const buf = readFileSync(path);
  return listZip(buf).map((e) => ({ name: e.name, mode: e.mode, data: readZipEntry(buf, e) }));
}

// ------------------------------------------------------------------ ELF

export interface ElfInfo {
  machine: 'x86_64' | 'aarch64' | 'arm' | `other(${number})`;
  /** PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2; null for static binaries */
  interpreter: string | null;
}

const MACHINE: Record<string, ElfInfo['machine']> = { amd64: 'x86_64', arm64: 'aarch64', arm: 'arm' };

/** Machine and PT_INTERP of an ELF binary (cairn's own reader, src/artifacts/elf.ts). */
export function elfInfo(pathOrBuf: string | Buffer): ElfInfo {
  let buf: Buffer;
  if (typeof pathOrBuf === 'string') {
    const fd = openSync(pathOrBuf, 'r');
    try {
      buf = Buffer.alloc(65536);
      const n = readSync(fd, buf, 0, buf.length, 0);
      buf = buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  } else {
    buf = pathOrBuf;
  }
  const e = inspectElf(buf);
  if (!e) throw new Error('not an ELF file');
  return { machine: MACHINE[e.arch] ?? `other(${e.machine})`, interpreter: e.interpreter ?? null };
}

// ------------------------------------------------------------------ CNI

/**
 * Version the way Nomad's CNI fingerprint reads it (client/fingerprint/plugins_cni.go):
 * run with no args; a non-zero exit means "unknown"; otherwise the first
 * whitespace-separated token that parses as semver (leading "v" allowed).
 */
export function cniFingerprintVersion(exitCode: number | null, combinedOutput: string): string {
  if (exitCode !== 0) return 'unknown';
  for (const tok of combinedOutput.split(/\s+/)) {
    if (/^v?\d+(\.\d+){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(tok)) return tok;
  }
  return 'unknown';
}

/** Nomad's go-version compare, as far as the CNI gate needs it (v1.4.0 >= 1.3.0). */
export { compareVersions } from '../../src/core/version.ts';

// ------------------------------------------------------------------ running agents

/** A TCP port on host that was free a moment ago. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface HttpResult {
  status: number;
  body: string;
  json(): unknown;
}

export async function httpGet(url: string, timeoutMs = 2000): Promise<HttpResult> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = await res.text();
  return { status: res.status, body, json: () => JSON.parse(body) };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningAgent {
  child: ChildProcess;
  pid: number;
  baseUrl: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  get(path: string): Promise<HttpResult>;
  /** signal (default SIGINT) and wait for exit; SIGKILL after timeoutMs */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

export interface StartOptions {
  bin: string;
  /** arguments after the binary; default ['agent', `-config=${configDir}`] */
  args?: string[];
  configDir?: string;
  host?: string;
  port: number;
  /** ms to wait for /v1/agent/health to answer (any status) */
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

const started = new Set<ChildProcess>();

/** Spawns the agent (stdin /dev/null, stdout/stderr piped) and waits until HTTP answers. */
export async function startAgent(o: StartOptions): Promise<RunningAgent> {
  const args = o.args ?? ['agent', `-config=${o.configDir ?? ''}`];
  const child = spawn(o.bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
  started.add(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  // 'close', not 'exit': the last lines (e.g. "Caught signal") may still be in the pipe at exit
  const exited = new Promise<Exit>((resolve) =>
    child.on('close', (code, signal) => {
      started.delete(child);
      resolve({ code, signal });
    }),
  );
  let done: Exit | null = null;
  void exited.then((e) => (done = e));
  const baseUrl = `http://${o.host ?? '127.0.0.1'}:${o.port}`;
  const agent: RunningAgent = {
    child,
    pid: child.pid ?? -1,
    baseUrl,
    stdout: () => out,
    stderr: () => err,
    exited,
    get: (p) => httpGet(baseUrl + p),
    async stop(signal = 'SIGINT', timeoutMs = 5000) {
      if (done) return done;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const e = await exited;
      clearTimeout(t);
      return e;
    },
  };
  const deadline = Date.now() + (o.readyTimeoutMs ?? 5000);
  for (;;) {
    if (done) {
      const e = done as Exit;
      throw new Error(`agent exited before serving (code ${e.code}, signal ${e.signal}):\n${out}\n${err}`);
    }
    try {
      await agent.get('/v1/agent/health');
      return agent;
    } catch {
      if (Date.now() > deadline) {
        await agent.stop('SIGKILL');
        throw new Error(`agent did not answer on ${baseUrl} in time:\n${out}\n${err}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** SIGKILL every agent startAgent() spawned that is still running (use in afterEach.always). */
export function killStartedAgents(): void {
  for (const c of started) c.kill('SIGKILL');
}

/** Runs a binary to completion (stdin /dev/null). */
export function run(bin: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(bin, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}
