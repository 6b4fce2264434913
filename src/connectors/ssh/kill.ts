import type { ClientChannel } from 'ssh2';
import { sh } from '../../shell/sh.ts';
import type { Become } from '../../inventory/types.ts';
import type { Secret } from '../../core/secret.ts';
import { shDashC, wrapBecome } from '../become.ts';
import { passwordLine } from '../become-password.ts';
import type { Connection } from './connection.ts';

/**
 * Stop a timed-out command: $1 is the PID of its shell. Collect the shell's
 * descendants first (a child may have left the process group, e.g. sudo with
 * use_pty), stop them, then SIGKILL the process group and every collected PID.
 * Runs with become when the command did, so root processes can be killed.
 * `kill -KILL -<pgid>` without `--`: dash rejects `--`, busybox ash too.
 */
const KILL_TREE = `root=$1
[ "\${root:-0}" -gt 1 ] || exit 0
list=$root
todo=$root
while [ -n "$todo" ]; do
  next=
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null < "$f" || continue
    set -- \${line##*) }
    for p in $todo; do
      if [ "$2" = "$p" ]; then d=\${f#/proc/}; next="$next \${d%/stat}"; fi
    done
  done
  list="$list$next"
  todo=$next
done
kill -STOP $list 2>/dev/null
pg=$(sed 's/.*) //' /proc/$root/stat 2>/dev/null | cut -d' ' -f3)
# the shell already gone: its PID was its process group if it led one
if [ "\${pg:-0}" -gt 1 ]; then kill -KILL "-$pg" 2>/dev/null; else kill -KILL "-$root" 2>/dev/null; fi
kill -KILL $list 2>/dev/null
true
`;

/**
 * Kill the process tree of a timed-out command, in a separate channel, with `become` if the command had it
 * (and its sudo password, when the command was fed one) (best effort, at most 3 s).
 */
export function killRemote(conn: Connection, pid: number, become: Become, sudoPassword?: Secret): Promise<void> {
  const kill = sh`/bin/sh -c ${KILL_TREE} cairn-kill ${pid}`;
  const text = shDashC(wrapBecome(kill, become, { password: !!sudoPassword })).text;
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 3000);
    try {
      conn.client.exec(text, (err, ch) => {
        if (err) {
          clearTimeout(timer);
          resolve();
          return;
        }
        ch.on('data', () => undefined);
        ch.stderr.on('data', () => undefined);
        ch.on('error', () => undefined);
        ch.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
        if (sudoPassword) ch.end(passwordLine(sudoPassword));
        else ch.end();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

/**
 * Ask sshd to signal the command's process group (OpenSSH killpg()s the
 * session). ssh2's Channel.signal() refuses once stdin is closed (EOF sent),
 * which is always the case here, so the request is sent directly.
 */
export function sendSignal(ch: ClientChannel, name: string): void {
  const c = ch as unknown as {
    outgoing?: { id: number; state: string };
    _client?: { _protocol?: { signal?: (id: number, name: string) => void } };
  };
  try {
    if (c.outgoing && (c.outgoing.state === 'open' || c.outgoing.state === 'eof') && c._client?._protocol?.signal) {
      c._client._protocol.signal(c.outgoing.id, name);
    } else ch.signal(name);
  } catch {
    /* the server may not support signals: closing the channel still ends the wait */
  }
}
