import { sh } from '../../shell/sh.ts';
import type { CommandResult } from '../../core/result.ts';
import type { ApplyRuntime } from '../operation.ts';

export interface ConfirmOptions {
  readonly stateDir: string;
  readonly seconds: number;
  /** What was switched, for messages ("/etc/resolv.conf"). */
  readonly what: string;
  /** Checks on the existing connection after the switch: each problem a sentence (empty: fine). */
  readonly checks?: (rt: ApplyRuntime) => Promise<string[]>;
  /** A NEW login with the inventory's connection must work (and run `command` when given) before confirming. */
  readonly freshLogin: boolean;
}

/**
 * After a guarded switch (switch-script.ts): run the checks and the fresh login; only
 * when all pass, confirm: create the confirm marker `confirm-<token>` with mkdir
 * (atomic: the timer creates the same marker before it restores, so exactly one of
 * them wins) and end the timer's sleep. When a check fails it does not confirm: it
 * waits for the host's timer to restore the old files, and throws saying so.
 */
export async function confirmSwitch(rt: ApplyRuntime, o: ConfirmOptions): Promise<void> {
  const { stateDir, seconds, what } = o;
  const pending = await rt.run(sh`cat ${`${stateDir}/pending`}`);
  const [token, pid] = pending.stdout.trim().split(/\s+/);
  if (pending.exitCode !== 0 || !token) throw new Error(`${what} was switched but ${stateDir}/pending cannot be read (${pending.stderr.trim()}); the host-side timer restores the previous ${what} in ${seconds}s`);
  const problems = o.checks ? await o.checks(rt) : [];
  if (o.freshLogin && problems.length === 0) {
    const error = await freshLoginWithin(rt);
    if (error) problems.push(`a fresh SSH login fails after the switch: ${error}`);
  }
  if (problems.length > 0) throw new Error(`${problems.join('; ')}. Not confirmed: ${await waitForRollback(rt, stateDir, what, token, seconds)}`);
  // the confirm marker (mkdir: atomic) decides against the timer; the kill only ends its sleep early
  // `kill -TERM -PGID` (not `--`: dash's kill refuses it); never group 0 or 1
  const kill =
    pid && /^[1-9]\d*$/.test(pid) && pid !== '1'
      ? sh`if tr '\\000' ' ' < ${`/proc/${pid}/cmdline`} 2>/dev/null | grep -q -F -e ${token}; then kill -TERM ${`-${pid}`} 2>/dev/null || :; fi`
      : sh`:`;
  const c = await rt.run(sh`if mkdir ${`${stateDir}/confirm-${token}`} 2>/dev/null; then rm -f ${`${stateDir}/pending`}; ${kill}; else echo 'the rollback timer fired first' >&2; exit 3; fi`);
  if (c.exitCode === 3) {
    throw new Error(`the checks passed, but only after the ${seconds}s rollback window: ${await waitForRollback(rt, stateDir, what, token, seconds)}; raise the rollback time`);
  }
  if (c.exitCode !== 0) throw new Error(`checks passed but the switch could not be confirmed (${c.stderr.trim()}); the host-side timer restores the previous ${what} in ${seconds}s`);
}

/**
 * A fresh login, tried 3 times over about 3 s: a reloaded daemon may be between its
 * old and new listening socket for a moment (sshd re-executes itself on SIGHUP).
 * The last error, or undefined when a login worked.
 */
async function freshLoginWithin(rt: ApplyRuntime): Promise<string | undefined> {
  let last = '';
  for (let i = 0; i < 3; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 1000 * i));
    try {
      await rt.freshLogin();
      return undefined;
    } catch (err) {
      last = (err as Error).message;
    }
  }
  return last;
}

/** Poll until the timer restored the files (or give up); a sentence for the error. */
async function waitForRollback(rt: ApplyRuntime, stateDir: string, what: string, token: string, seconds: number): Promise<string> {
  const deadline = Date.now() + (seconds + 20) * 1000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2000));
    let r: CommandResult;
    try {
      r = await rt.run(sh`grep -F -- ${token} ${`${stateDir}/rollback.log`} 2>/dev/null || :`, { timeoutMs: 15_000 });
    } catch (err) {
      return `the host-side timer restores the previous ${what} ${seconds}s after the switch (could not watch it: ${(err as Error).message})`;
    }
    const lines = r.stdout.trim().split('\n').filter(Boolean);
    // the restore line first; a line about the activation after it, when there is one
    const restored = lines.find((l) => / (restored the previous|not restored:) /.test(l));
    if (restored) {
      const tail = lines.filter((l) => l !== restored).map((l) => l.replace(/^\S+ \S+ /, ''));
      return `the host-side timer rolled back after ${seconds}s: ${restored.replace(/^\S+ \S+ /, '')}${tail.length ? ` (${tail.join('; ')})` : ''} (log: ${stateDir}/rollback.log)`;
    }
  }
  return `the host-side timer did not report a rollback within ${seconds + 20}s; check ${what} and ${stateDir}/rollback.log on the host`;
}
