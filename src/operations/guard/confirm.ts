import { sh, type ShellCommand } from '../../shell/sh.ts';
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
  /**
   * The activation ran detached (switch-script.ts detachActivation) and may have cut
   * the existing connection: every command of the confirmation, the checks' too, goes
   * over fresh logins, first waiting for the activation's result.
   */
  readonly detached?: boolean;
}

type Exec = (cmd: ShellCommand, o?: { timeoutMs?: number }) => Promise<CommandResult>;

/**
 * After a guarded switch (switch-script.ts): run the checks and the fresh login; only
 * when all pass, confirm: create the confirm marker `confirm-<token>` with mkdir
 * (atomic: the timer creates the same marker before it restores, so exactly one of
 * them wins) and end the timer's sleep. When a check fails it does not confirm: it
 * waits for the host's timer to restore the old files, and throws saying so.
 */
export async function confirmSwitch(rt: ApplyRuntime, o: ConfirmOptions): Promise<void> {
  const { stateDir, seconds, what } = o;
  if (o.detached) return confirmDetached(rt, o);
  const pending = await rt.run(sh`cat ${`${stateDir}/pending`}`);
  const [token, pid] = pending.stdout.trim().split(/\s+/);
  if (pending.exitCode !== 0 || !token) throw new Error(`${what} was switched but ${stateDir}/pending cannot be read (${pending.stderr.trim()}); the host-side timer restores the previous ${what} in ${seconds}s`);
  const problems = o.checks ? await o.checks(rt) : [];
  if (o.freshLogin && problems.length === 0) {
    const error = await freshLoginWithin(rt);
    if (error) problems.push(`a fresh SSH login fails after the switch: ${error}`);
  }
  if (problems.length > 0) throw new Error(`${problems.join('; ')}. Not confirmed: ${await waitForRollback(rt.run, stateDir, what, token, seconds)}`);
  await confirmNow(rt.run, o, token, pid);
}

/**
 * Confirm after a detached activation: fresh logins until the activation's result
 * is there (a login that fails meanwhile is the network settling), then the checks
 * and the confirmation over fresh logins too.
 */
async function confirmDetached(rt: ApplyRuntime, o: ConfirmOptions): Promise<void> {
  const { stateDir, seconds, what } = o;
  const exec: Exec = (cmd, x) => rt.freshRun(cmd, x);
  const started = Date.now();
  const deadline = started + Math.max(seconds - 3, 2) * 1000;
  // exit 4: no switch pending any more (the timer restored first: its last log lines); 5: still activating
  const read = sh`d=${stateDir}; read -r t p < "$d/pending" || { tail -n 2 "$d/rollback.log" 2>/dev/null; exit 4; }; echo "$t $p"; [ -f "$d/activated-$t" ] || exit 5; cat "$d/activated-$t"`;
  // the read's answer once no switch is pending any more (exit 4): what the timer logged
  const gone = (r: CommandResult) => (r.exitCode === 4 ? (rollbackSentence(r.stdout, seconds, stateDir) ?? `no switch is pending any more (see ${stateDir}/rollback.log)`) : undefined);
  let last = 'no fresh login was tried';
  let answer: string[] | undefined;
  let restoredFirst: string | undefined;
  let token = '';
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2000));
    let r: CommandResult;
    try {
      r = await exec(read, { timeoutMs: 10_000 });
    } catch (err) {
      last = `a fresh SSH login fails after the switch: ${(err as Error).message}`;
      continue;
    }
    const lines = r.stdout.split('\n');
    if (r.exitCode === 4) {
      restoredFirst = gone(r);
      break;
    }
    token = lines[0]?.split(/\s+/)[0] ?? token;
    if (r.exitCode === 5) {
      last = 'the activation has not finished';
      continue;
    }
    if (r.exitCode !== 0) throw new Error(`${what} was switched but its state cannot be read over a fresh login (exit ${r.exitCode}: ${r.stderr.trim()}); the host-side timer restores it in ${seconds}s`);
    answer = lines;
    break;
  }
  const problems: string[] = [];
  if (!answer) problems.push(`${last} (${Math.round((Date.now() - started) / 1000)}s after the switch)`);
  else if (answer[1]?.trim() !== '0') problems.push(`the activation failed (exit ${answer[1]?.trim()}): ${answer.slice(2).join('\n').trim().split('\n').slice(-5).join('; ')}`);
  if (problems.length === 0 && o.checks) problems.push(...(await o.checks({ ...rt, run: exec })));
  if (problems.length > 0) {
    // the token is known once a login got through; without it, watch for no switch pending
    const watch = restoredFirst ?? (token ? await waitForRollback(exec, stateDir, what, token, seconds, true) : await pollRollback(exec, read, gone, o, true));
    throw new Error(`${problems.join('; ')}. Not confirmed: ${watch}`);
  }
  await confirmNow(exec, o, token, answer![0]?.split(/\s+/)[1], true);
}

/** The confirm marker (mkdir: atomic) against the timer, then the timer's sleep ended. */
async function confirmNow(exec: Exec, o: ConfirmOptions, token: string, pid: string | undefined, fresh = false): Promise<void> {
  const { stateDir, seconds, what } = o;
  // the confirm marker (mkdir: atomic) decides against the timer; the kill only ends its sleep early
  // `kill -TERM -PGID` (not `--`: dash's kill refuses it); never group 0 or 1
  const kill =
    pid && /^[1-9]\d*$/.test(pid) && pid !== '1'
      ? sh`if tr '\\000' ' ' < ${`/proc/${pid}/cmdline`} 2>/dev/null | grep -q -F -e ${token}; then kill -TERM ${`-${pid}`} 2>/dev/null || :; fi`
      : sh`:`;
  const c = await exec(sh`if mkdir ${`${stateDir}/confirm-${token}`} 2>/dev/null; then rm -f ${`${stateDir}/pending`}; ${kill}; else echo 'the rollback timer fired first' >&2; exit 3; fi`);
  if (c.exitCode === 3) {
    throw new Error(`the checks passed, but only after the ${seconds}s rollback window: ${await waitForRollback(exec, stateDir, what, token, seconds, fresh)}; raise the rollback time`);
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

/** Poll until the timer restored the files of this switch (or give up); a sentence for the error. */
function waitForRollback(exec: Exec, stateDir: string, what: string, token: string, seconds: number, fresh = false): Promise<string> {
  const grep = sh`grep -F -- ${token} ${`${stateDir}/rollback.log`} 2>/dev/null || :`;
  return pollRollback(exec, grep, (r) => rollbackSentence(r.stdout, seconds, stateDir), { stateDir, what, seconds }, fresh);
}

/**
 * Run `cmd` every 2 s until `said` makes a sentence of its result, for the rollback
 * window and 20 s more. `fresh`: exec logs in anew each time, so a failed login is
 * the host still cut off and is tried again; otherwise it ends the watch.
 */
async function pollRollback(exec: Exec, cmd: ShellCommand, said: (r: CommandResult) => string | undefined, o: Pick<ConfirmOptions, 'stateDir' | 'what' | 'seconds'>, fresh: boolean): Promise<string> {
  const { stateDir, what, seconds } = o;
  const deadline = Date.now() + (seconds + 20) * 1000;
  let unwatched = '';
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2000));
    let r: CommandResult;
    try {
      r = await exec(cmd, { timeoutMs: 15_000 });
    } catch (err) {
      unwatched = (err as Error).message;
      if (fresh) continue;
      return `the host-side timer restores the previous ${what} ${seconds}s after the switch (could not watch it: ${unwatched})`;
    }
    const sentence = said(r);
    if (sentence) return sentence;
  }
  return `the host-side timer did not report a rollback within ${seconds + 20}s${unwatched ? ` (last try: ${unwatched})` : ''}; check ${what} and ${stateDir}/rollback.log on the host`;
}

/** The timer's log lines of one switch as a sentence (the restore line first, what followed in brackets), or undefined before it restored. */
function rollbackSentence(log: string, seconds: number, stateDir: string): string | undefined {
  const lines = log.trim().split('\n').filter(Boolean);
  const restored = lines.find((l) => / (restored the previous|not restored:) /.test(l));
  if (!restored) return undefined;
  const tail = lines.filter((l) => l !== restored).map((l) => l.replace(/^\S+ \S+ /, ''));
  return `the host-side timer rolled back after ${seconds}s: ${restored.replace(/^\S+ \S+ /, '')}${tail.length ? ` (${tail.join('; ')})` : ''} (log: ${stateDir}/rollback.log)`;
}
