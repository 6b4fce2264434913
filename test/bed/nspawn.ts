/**
 * systemd-nspawn as a better chroot for one-off build commands (non-boot mode):
 * /proc, /dev and bind mounts live in nspawn's own mount namespace, so nothing
 * is left mounted on the host if the build dies.
 */
import { PREFIX } from './config.ts';
import { run, runLoud, type RunResult } from './exec.ts';

let counter = 0;

export interface NspawnRunOptions {
  binds?: { src: string; dst: string; ro?: boolean }[];
  /** 'host': share the controller's network (downloads); 'none': private, no interfaces. */
  network?: 'host' | 'none';
  /** Stream output (long jobs). */
  loud?: boolean;
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Working directory inside the container. */
  chdir?: string;
}

export function nspawnArgv(root: string, argv: readonly string[], opts: NspawnRunOptions = {}): string[] {
  const machine = `${PREFIX}-build-${process.pid}-${++counter}`;
  const a = [
    'systemd-nspawn',
    '--quiet',
    `--directory=${root}`,
    `--machine=${machine}`,
    '--register=no',
    '--keep-unit',
    '--as-pid2',
    '--console=pipe',
    '--timezone=off',
    '--link-journal=no',
    opts.network === 'host' ? '--resolv-conf=copy-host' : '--resolv-conf=off',
  ];
  if (opts.network !== 'host') a.push('--private-network');
  for (const b of opts.binds ?? []) a.push(`${b.ro ? '--bind-ro' : '--bind'}=${b.src}:${b.dst}`);
  for (const [k, v] of Object.entries(opts.env ?? {})) a.push(`--setenv=${k}=${v}`);
  if (opts.chdir) a.push(`--chdir=${opts.chdir}`);
  a.push('--', ...argv);
  return a;
}

export async function nspawnRun(root: string, argv: readonly string[], opts: NspawnRunOptions = {}): Promise<RunResult | undefined> {
  const full = nspawnArgv(root, argv, opts);
  if (opts.loud) {
    await runLoud(full);
    return undefined;
  }
  return run(full, { timeoutMs: opts.timeoutMs ?? 600_000 });
}
