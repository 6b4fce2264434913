/**
 * Small ELF binaries built here with the compilers that exist (gcc, gcc -static,
 * musl-gcc, aarch64-linux-gnu-gcc), a temp cache dir, and a local HTTP server on
 * 127.0.0.1 (no internet in tests).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOURCE = `#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "version") == 0) { puts("toy v1.2.3"); return 0; }
  fputs("usage: toy version\\n", stderr);
  return 3;
}
`;

export type Build = 'glibc' | 'static' | 'musl' | 'musl-static' | 'arm64-glibc' | 'arm64-static';
const RECIPES: Record<Build, [string, string[]]> = {
  glibc: ['gcc', []],
  static: ['gcc', ['-static']],
  musl: ['musl-gcc', []],
  'musl-static': ['musl-gcc', ['-static']],
  'arm64-glibc': ['aarch64-linux-gnu-gcc', []],
  'arm64-static': ['aarch64-linux-gnu-gcc', ['-static']],
};

let dir: string | undefined;
const built = new Map<Build, Buffer | undefined>();

/** The toy binary for a build, or undefined when its compiler is missing. */
export function toyBinary(build: Build): Buffer | undefined {
  if (built.has(build)) return built.get(build);
  dir ??= mkdtempSync(join(tmpdir(), 'cairn-elf-'));
  const src = join(dir, 'toy.c');
  writeFileSync(src, SOURCE);
  const [cc, flags] = RECIPES[build];
  const out = join(dir, `toy-${build}`);
  const r = spawnSync(cc, [...flags, '-Os', '-s', '-o', out, src], { encoding: 'utf8' });
  const bin = r.status === 0 ? readFileSync(out) : undefined;
  built.set(build, bin);
  return bin;
}

export function removeToyBinaries(): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  built.clear();
}

export function tempDir(prefix = 'cairn-art-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A 127.0.0.1 HTTP server serving `files` by path; counts requests per path. */
export async function serve(files: Record<string, Buffer | string>): Promise<{ url: string; hits: Map<string, number>; close(): Promise<void> }> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const body = files[path];
    if (body === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}

/** Run a tool in `cwd`; throws with its stderr when it fails. */
export function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
}

export const have = (cmd: string): boolean => spawnSync(cmd, ['--version']).status === 0 || spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
