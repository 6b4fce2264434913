// What the benchmark measures of a run: wall time and peak RSS of the cairn process,
// and the CPU the hosts spent (their containers' cgroups, cpu.stat usage_usec).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { containerCgroupDirs } from '../bed/cgroup.ts';

export interface Measured {
  code: number;
  seconds: number;
  peakRssMb: number;
  stdout: string;
  stderr: string;
}

/** Run a program; wall time and its peak RSS (VmHWM, sampled every 50 ms and at exit). */
export function measure(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) / 1024);
      } catch {
        /* exited */
      }
    };
    const timer = setInterval(sample, 50);
    p.stdout!.on('data', (d) => (stdout += d));
    p.stderr!.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('exit', sample);
    p.on('close', (code) => {
      clearInterval(timer);
      resolve({ code: code ?? 1, seconds: Number(process.hrtime.bigint() - t0) / 1e9, peakRssMb: peak, stdout, stderr });
    });
  });
}

/** The cgroup v2 directory of a bed container (started by this process's children), or undefined. */
function cgroupOf(machine: string): string | undefined {
  return containerCgroupDirs(machine).find((d) => existsSync(join(d, 'cpu.stat')));
}

/** CPU seconds the containers have used so far (user + system), summed; undefined when not readable. */
export function hostCpuSeconds(machines: readonly string[]): number | undefined {
  let usec = 0;
  for (const m of machines) {
    const d = cgroupOf(m);
    if (!d) return undefined;
    const line = /^usage_usec (\d+)$/m.exec(readFileSync(join(d, 'cpu.stat'), 'utf8'));
    if (!line) return undefined;
    usec += Number(line[1]);
  }
  return usec / 1e6;
}

/** Run `f` and the host CPU seconds it cost. */
export async function withHostCpu<T>(machines: readonly string[], f: () => Promise<T>): Promise<{ result: T; hostCpu: number | undefined }> {
  const before = hostCpuSeconds(machines);
  const result = await f();
  const after = hostCpuSeconds(machines);
  return { result, hostCpu: before === undefined || after === undefined ? undefined : after - before };
}
