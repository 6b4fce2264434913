import type { ClientChannel } from 'ssh2';
import { endWith, type Stdin, type StdinOptions } from '../stdin.ts';
import { UnreachableError } from '../../core/errors.ts';
import type { Become } from '../../inventory/types.ts';
import type { Secret } from '../../core/secret.ts';
import { withPasswordLine } from '../become-password.ts';
import { sh, type ShellCommand } from '../../shell/sh.ts';
import { shDashC } from '../become.ts';
import { signalExitCode, timeoutNote, TIMEOUT_EXIT_CODE, type RawOutput } from '../process.ts';
import type { Connection } from './connection.ts';
import { killRemote, sendSignal } from './kill.ts';

/** First stderr line of a command run with a timeout: the remote shell's PID (stripped from the result). */
const PID_MARKER = 'cairn-pid:';
const PID_LINE = /^cairn-pid:(\d+)\n$/;
/** Retries of a refused channel open (10 ms doubling: about 2.5 s in all). */
const CHANNEL_OPEN_RETRIES = 8;

export interface ExecOptions {
  /** The inventory name of the host (for errors). */
  host: string;
  /** `host:port` of the target (for errors). */
  where: string;
  stdin: Stdin | undefined;
  /** Kill the command after this long (0: never). */
  timeoutMs: number;
  /** The become the command was wrapped in (false: none): the kill runs with it too. */
  become: Become;
  /** The command was wrapped in `sudo -k -S`: the password line goes before `stdin` (and to the kill). */
  sudoPassword?: Secret | undefined;
  /** Progress and gate of a big stdin. */
  stdinOptions?: StdinOptions;
}

/**
 * The `/bin/sh -c '<text>'` an exec request carries. With a timeout, the shell
 * first reports its PID on stderr (a marker line that is stripped again) so a
 * timed-out command's whole process group can be killed: OpenSSH refuses
 * "signal" requests for root sessions.
 */
export function execText(command: ShellCommand, withPid: boolean): string {
  return shDashC(withPid ? sh`printf ${PID_MARKER + '%s\\n'} "$$" >&2
${command}` : command).text;
}

/** Run a command (become already applied) in a new channel of `conn`: its raw output and exit code. */
export function execOn(conn: Connection, command: ShellCommand, o: ExecOptions): Promise<RawOutput> {
  const { timeoutMs } = o;
  const stdin = o.sudoPassword ? withPasswordLine(o.sudoPassword, o.stdin) : o.stdin;
  const withPid = timeoutMs > 0;
  const text = execText(command, withPid);
  const started = Date.now();
  return new Promise<RawOutput>((resolve, reject) => {
    const lostError = (): UnreachableError =>
      new UnreachableError(o.host, `the SSH connection to ${o.where} was lost while a command ran${conn.ended.reason ? ` (${conn.ended.reason.message})` : ''}`, {
        cause: conn.ended.reason,
      });
    const onOpen = (err: Error | undefined, ch: ClientChannel): void => {
      if (err) {
        reject(conn.ended.reason ? lostError() : new Error(`${o.host}: could not open an SSH channel: ${err.message}`, { cause: err }));
        return;
      }
      const out: Buffer[] = [];
      const errs: Buffer[] = [];
      let code: number | null | undefined;
      let signal: string | undefined;
      let timedOut = false;
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      let fallback: NodeJS.Timeout | undefined;
      // the PID marker line at the start of stderr
      let pid: number | undefined;
      let head: Buffer | undefined = withPid ? Buffer.alloc(0) : undefined;
      const flushHead = (): void => {
        if (head && head.length) errs.push(head);
        head = undefined;
      };
      // the connection lost: ssh2 closes its channels, but give the exit status a moment at most
      let lostTimer: NodeJS.Timeout | undefined;
      const offLost = conn.ended.onEnd(() => (lostTimer ??= setTimeout(() => finish(), 200)));
      const finish = (): void => {
        if (done) return;
        done = true;
        offLost();
        clearTimeout(lostTimer);
        clearTimeout(timer);
        clearTimeout(fallback);
        flushHead();
        let stderr = Buffer.concat(errs);
        let exitCode: number;
        if (timedOut) {
          exitCode = TIMEOUT_EXIT_CODE;
          stderr = Buffer.concat([stderr, Buffer.from(timeoutNote(timeoutMs))]);
        } else if (typeof code === 'number') exitCode = code;
        else if (signal) exitCode = signalExitCode(signal);
        else if (conn.ended.reason) {
          reject(lostError());
          return;
        } else {
          exitCode = 255;
          stderr = Buffer.concat([stderr, Buffer.from('cairn: the SSH channel closed without an exit status\n')]);
        }
        resolve({ exitCode, stdout: Buffer.concat(out), stderr, durationMs: Date.now() - started, timedOut });
      };
      ch.on('data', (b: Buffer) => out.push(b));
      ch.stderr.on('data', (b: Buffer) => {
        if (!head) {
          errs.push(b);
          return;
        }
        head = Buffer.concat([head, b]);
        const nl = head.indexOf(0x0a);
        if (nl < 0 && head.length < 64) return;
        const m = nl >= 0 ? PID_LINE.exec(head.subarray(0, nl + 1).toString('latin1')) : null;
        if (m) {
          pid = Number(m[1]);
          head = head.subarray(nl + 1);
        }
        flushHead();
      });
      ch.on('exit', (c: number | null, s?: string) => {
        code = c;
        if (s) signal = s;
      });
      ch.on('close', () => {
        if (ch.stderr.readableEnded || ch.stderr.destroyed) finish();
        else {
          ch.stderr.once('end', finish);
          fallback = setTimeout(finish, 200);
        }
      });
      ch.on('error', () => undefined);
      ch.stderr.on('error', () => undefined);
      endWith(ch, stdin, o.stdinOptions);
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          timedOut = true;
          // the kill script first: a signal request could kill sudo/doas alone
          // and orphan the command before its process tree can be walked
          if (pid === undefined) sendSignal(ch, 'KILL');
          const killed = pid !== undefined ? killRemote(conn, pid, o.become, o.sudoPassword) : Promise.resolve();
          void killed.then(() => {
            try {
              ch.close();
            } catch {
              /* already closing */
            }
            fallback = setTimeout(finish, 1000);
          });
        }, timeoutMs);
      }
    };
    // sshd frees a closed session a moment after confirming the close, so a
    // busy connection can briefly hit MaxSessions: retry opening, with backoff
    let attempt = 0;
    const open = (): void => {
      try {
        conn.client.exec(text, (err, ch) => {
          if (err && !conn.ended.reason && /open failure/i.test(err.message) && attempt < CHANNEL_OPEN_RETRIES) {
            setTimeout(open, 10 * 2 ** attempt++);
            return;
          }
          onOpen(err, ch);
        });
      } catch (err) {
        conn.ended.end(err as Error);
        reject(lostError());
      }
    };
    open();
  });
}
