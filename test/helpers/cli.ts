import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the real `cairn` command (as users do), off a TTY. */
export function cairn(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bin, ...args], { env: { ...process.env, CI: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Parse `--json` output. */
export function jsonOf(r: CliResult): { hosts: Record<string, { ok: number; changed: number; failed: number; skipped: number; unreachable: boolean; roundTrips: number; error?: string; ops: { role: string; id: string; status: string; diff?: string; error?: string; reason: string }[] }> } {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`cairn did not print JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}
