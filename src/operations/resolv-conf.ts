import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { sh, asWord, type ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import { change, fail, noop, type ApplyRuntime, type OpContext, type Operation, type Plan } from './operation.ts';
import { checkId, paramError, parseSections, section, paramNames, rejectUnknownParams, isFail } from './kit.ts';
import { checkAbsPath } from './path-params.ts';
import { asText } from './file-content.ts';
import { readPathProbe } from './path-operation.ts';
import { pathStateCommand } from '../facts/path-state.ts';
import { unifiedDiff } from './diff.ts';
import { DNS_NAME } from './dns-query.ts';

/** musl (and Go's resolver) read at most this many `nameserver` lines; glibc too (MAXNS). */
export const MAX_NAMESERVERS = 3;

export interface ResolvConfParams {
  readonly id: string;
  /** Default /etc/resolv.conf */
  readonly path?: string;
  /** 1 to 3 IP addresses, in order (more is an error: the libc would silently drop them). */
  readonly nameservers: readonly string[];
  /** `search` domains. */
  readonly search?: readonly string[];
  /** `options` words, e.g. ['timeout:2', 'attempts:2']. */
  readonly options?: readonly string[];
  /**
   * Seconds after the switch at which a host-side timer puts the previous file back
   * unless cairn confirmed the switch (default 30, at least 5).
   */
  readonly rollbackSeconds?: number;
  /** Where the previous file, the pending switch and the rollback log are kept. Default /var/lib/cairn/resolv-conf */
  readonly stateDir?: string;
  /**
   * After the switch, this name must resolve through the host's own resolver
   * (getent: libc + nsswitch + the new resolv.conf), to `address` when given.
   */
  readonly verify?: { readonly name: string; readonly address?: string };
  /** After the switch, a new SSH login must work (default true). */
  readonly freshLogin?: boolean;
}

const KIND = 'resolvConf';
const PARAMS = paramNames<ResolvConfParams>({ id: true, path: true, nameservers: true, search: true, options: true, rollbackSeconds: true, stateDir: true, verify: true, freshLogin: true });
const OPTION = /^[a-z][a-z0-9-]*(:\d+)?$/;

/** The file cairn writes (pure). */
export function renderResolvConf(p: { nameservers: readonly string[]; search?: readonly string[]; options?: readonly string[] }): string {
  const lines = ['# managed by cairn (dns role): do not edit, changes are overwritten', ...p.nameservers.map((n) => `nameserver ${n}`)];
  if (p.search?.length) lines.push(`search ${p.search.join(' ')}`);
  if (p.options?.length) lines.push(`options ${p.options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** Problems with a nameserver list, as sentences (empty: fine). Shared with role validation. */
export function nameserverProblems(list: unknown): string[] {
  if (!Array.isArray(list) || list.length === 0) return ['must be a non-empty list of IP addresses'];
  const out: string[] = [];
  const bad = list.filter((n) => typeof n !== 'string' || isIP(n) === 0);
  if (bad.length) out.push(`has entries that are not IP addresses: ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
  if (list.length > MAX_NAMESERVERS) {
    out.push(
      `has ${list.length} nameservers; musl, glibc and Go read at most ${MAX_NAMESERVERS} and silently ignore the rest (${list.slice(MAX_NAMESERVERS).join(', ')} would never be asked)`,
    );
  }
  const dup = list.filter((n, i) => list.indexOf(n) !== i);
  if (dup.length) out.push(`lists ${[...new Set(dup)].join(', ')} twice`);
  return out;
}

/**
 * /etc/resolv.conf switched with a safety net. The change, in one command on the
 * host: keep the current file (or symlink) in the state dir, start a detached
 * timer (setsid sh, stdio on /dev/null so the SSH channel closes) that puts it
 * back after `rollbackSeconds` unless confirmed, then write the new file
 * atomically (temp + rename). On the controller, afterChange then checks that
 * `verify.name` resolves through the host's libc and that a fresh SSH login
 * works; only then it confirms: it creates the confirm marker `confirm-<token>`
 * with mkdir (atomic: the timer creates the same marker before it restores, so
 * exactly one of them wins) and kills the timer. When a check fails
 * it does not confirm: it waits for the timer to restore the old file, reports
 * that, and fails the step.
 *
 * The timer restores only if the file is still the one cairn wrote (something
 * else writing resolv.conf in between wins) and only its own switch (a token).
 */
export function resolvConf(params: ResolvConfParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  if (params.verify !== undefined) rejectUnknownParams(KIND, id, params.verify, ['name', 'address'], 'verify.');
  const path = checkAbsPath(KIND, id, 'path', params.path ?? '/etc/resolv.conf');
  const problems = nameserverProblems(params.nameservers);
  if (problems.length) throw paramError(KIND, id, 'nameservers', problems.join('; '), `list 1 to ${MAX_NAMESERVERS} IP addresses, the local resolver first`);
  const search = params.search ?? [];
  if (!Array.isArray(search) || search.some((d) => typeof d !== 'string' || !DNS_NAME.test(d)) || search.length > 6) {
    throw paramError(KIND, id, 'search', `must be a list of at most 6 domain names, got ${JSON.stringify(params.search)}`, "e.g. search: ['lan']");
  }
  const options = params.options ?? [];
  if (!Array.isArray(options) || options.some((o) => typeof o !== 'string' || !OPTION.test(o))) {
    throw paramError(KIND, id, 'options', `must be a list of resolver options, got ${JSON.stringify(params.options)}`, "e.g. options: ['timeout:2', 'attempts:2']");
  }
  const seconds = params.rollbackSeconds ?? 30;
  if (!Number.isInteger(seconds) || seconds < 5 || seconds > 3600) {
    throw paramError(KIND, id, 'rollbackSeconds', `must be an integer from 5 to 3600, got ${JSON.stringify(params.rollbackSeconds)}`, 'e.g. rollbackSeconds: 30');
  }
  const stateDir = checkAbsPath(KIND, id, 'stateDir', params.stateDir ?? '/var/lib/cairn/resolv-conf');
  const verify = params.verify;
  if (verify !== undefined) {
    if (typeof verify.name !== 'string' || !DNS_NAME.test(verify.name)) throw paramError(KIND, id, 'verify.name', `must be a DNS name, got ${JSON.stringify(verify.name)}`, 'e.g. verify: { name: cairn-check.internal }');
    if (verify.address !== undefined && isIP(verify.address) === 0) throw paramError(KIND, id, 'verify.address', `must be an IP address, got ${JSON.stringify(verify.address)}`, 'e.g. address: 127.0.0.254');
  }
  const freshLogin = params.freshLogin ?? true;
  const wanted = renderResolvConf({ nameservers: params.nameservers, search, options });
  const wantedSha = createHash('sha256').update(wanted).digest('hex');

  return {
    kind: KIND,
    id,
    probe(): ShellCommand {
      // pathStateCommand ends with `exit 0`: its own subshell, then the pending switch
      return sh`( ${pathStateCommand(path, { contentMax: 64 * 1024 })}
) || exit 1
if [ -f ${`${stateDir}/pending`} ]; then ${section('pending', sh`cat ${`${stateDir}/pending`}`)}
fi
exit 0`;
    },
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      const st = readPathProbe(KIND, id, probe);
      if (isFail(st)) return st;
      if (st.type === 'dir' || st.type === 'other') return fail(`${KIND} '${id}': ${path} is not a file`);
      const pending = parseSections(probe?.stdout ?? '').get('pending')?.trim();
      const before = st.type === 'file' && st.content ? asText(st.content) : undefined;
      const warnings: string[] = [];
      if (ctx.facts.libc === 'musl' && params.nameservers.length > 1) {
        warnings.push(
          `musl asks all ${params.nameservers.length} nameservers at once and takes the first answer: a server that does not know .consul names can answer NXDOMAIN first; keep the local resolver alone in ${path} on Alpine`,
        );
      }
      if (st.type === 'file' && st.sha256 === wantedSha && !pending) return noop(`${path} lists ${params.nameservers.join(', ')}`);
      const was = st.type === 'link' ? `symlink to ${st.target ?? '?'}` : st.type === 'absent' ? 'absent' : 'file';
      const diff = before !== undefined ? unifiedDiff(before, wanted, { path }) : `--- ${path} (host: ${was})\n+++ ${path} (wanted)\n${wanted.replace(/^/gm, '+')}`;
      const reason =
        st.type === 'file' && st.sha256 === wantedSha
          ? `confirm the pending switch of ${path} (an earlier run did not confirm it)`
          : `switch ${path} to ${params.nameservers.join(', ')} (${was} before; rolled back after ${seconds}s unless confirmed)`;
      return change(reason, [switchCommand(path, stateDir, wanted, wantedSha, seconds)], diff, warnings.length ? warnings : undefined);
    },
    async afterChange(rt: ApplyRuntime): Promise<void> {
      const pending = await rt.run(sh`cat ${`${stateDir}/pending`}`);
      const [token, pid] = pending.stdout.trim().split(/\s+/);
      if (pending.exitCode !== 0 || !token) throw new Error(`${path} was switched but ${stateDir}/pending cannot be read (${pending.stderr.trim()}); the host-side timer restores the old file in ${seconds}s`);
      const problems: string[] = [];
      if (verify) {
        const r = await rt.run(sh`getent hosts ${verify.name} 2>&1 || { rc=$?; echo "getent exit $rc"; exit $rc; }`, { timeoutMs: 60_000 });
        const addresses = r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter((a): a is string => !!a && isIP(a) !== 0);
        if (r.exitCode !== 0 || addresses.length === 0) {
          problems.push(`${verify.name} does not resolve through the host's resolver after the switch (getent hosts: ${(r.stdout + r.stderr).trim() || `exit ${r.exitCode}`})`);
        } else if (verify.address !== undefined && !addresses.includes(verify.address)) {
          problems.push(`${verify.name} resolves to ${addresses.join(', ')} after the switch, expected ${verify.address}`);
        }
      }
      if (freshLogin && problems.length === 0) {
        try {
          await rt.freshLogin();
        } catch (err) {
          problems.push(`a fresh SSH login fails after the switch: ${(err as Error).message}`);
        }
      }
      if (problems.length === 0) {
        // the confirm marker (mkdir: atomic) decides against the timer; the kill only ends its sleep early
        // `kill -TERM -PGID` (not `--`: dash's kill refuses it); never group 0 or 1
        const kill =
          pid && /^[1-9]\d*$/.test(pid) && pid !== '1'
            ? sh`if tr '\\000' ' ' < ${`/proc/${pid}/cmdline`} 2>/dev/null | grep -q -F -e ${token}; then kill -TERM ${`-${pid}`} 2>/dev/null || :; fi`
            : sh`:`;
        const c = await rt.run(sh`if mkdir ${`${stateDir}/confirm-${token}`} 2>/dev/null; then rm -f ${`${stateDir}/pending`}; ${kill}; else echo 'the rollback timer fired first' >&2; exit 3; fi`);
        if (c.exitCode === 3) {
          throw new Error(`the checks passed, but only after the ${seconds}s rollback window: ${await waitForRollback(rt, stateDir, path, token, seconds)}; raise the rollback time`);
        }
        if (c.exitCode !== 0) throw new Error(`checks passed but the switch could not be confirmed (${c.stderr.trim()}); the host-side timer restores the old ${path} in ${seconds}s`);
        return;
      }
      throw new Error(`${problems.join('; ')}. Not confirmed: ${await waitForRollback(rt, stateDir, path, token, seconds)}`);
    },
  };
}

/** Poll until the timer restored the file (or give up); a sentence for the error. */
async function waitForRollback(rt: ApplyRuntime, stateDir: string, path: string, token: string, seconds: number): Promise<string> {
  const deadline = Date.now() + (seconds + 20) * 1000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2000));
    let r: CommandResult;
    try {
      r = await rt.run(sh`grep -F -- ${token} ${`${stateDir}/rollback.log`} 2>/dev/null || :`, { timeoutMs: 15_000 });
    } catch (err) {
      return `the host-side timer restores the previous ${path} ${seconds}s after the switch (could not watch it: ${(err as Error).message})`;
    }
    const line = r.stdout.trim().split('\n').pop();
    if (line) return `the host-side timer rolled back after ${seconds}s: ${line.replace(/^\S+ \S+ /, '')} (log: ${stateDir}/rollback.log)`;
  }
  return `the host-side timer did not report a rollback within ${seconds + 20}s; check ${path} and ${stateDir}/rollback.log on the host`;
}

/**
 * The switch (one /bin/sh -c script): stop an older pending timer, keep the current
 * file, start the timer, rename the new file into place. Prints the token.
 */
function switchCommand(path: string, stateDir: string, wanted: string, wantedSha: string, seconds: number): ShellCommand {
  const timer = `d=$1; p=$2; tok=$3; n=$4; want=$5
sleep "$n"
# the confirm marker is a directory: mkdir is atomic, so either the controller
# confirmed (it exists) or this timer decides, never both
mkdir "$d/confirm-$tok" 2>/dev/null || exit 0
read -r cur _ < "$d/pending" 2>/dev/null || exit 0
[ "$cur" = "$tok" ] || exit 0
h=$(sha256sum < "$p" 2>/dev/null) || h=''
set -- $h
if [ "$1" = "$want" ]; then
  if [ -f "$d/before.absent" ]; then rm -f "$p"
  else cp -pP "$d/before" "$p.cairn-rollback" && mv -f "$p.cairn-rollback" "$p"; fi
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $tok restored the previous $p: the switch was not confirmed within $n s" >> "$d/rollback.log"
else
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $tok not restored: $p changed again after the switch" >> "$d/rollback.log"
fi
rm -f "$d/pending"`;
  const body = sh`set -e
d=${stateDir}; p=${path}; t=${`${path}.cairn-tmp`}; n=${String(seconds)}
mkdir -p "$d"
keep=''
if [ -f "$d/pending" ]; then
  # an earlier switch was never confirmed (its timer died with a reboot?): stop its
  # timer, and keep ITS copy of the file from before cairn's switch
  read -r otok opid < "$d/pending" || :
  # the timer's process group (setsid made it the leader), only if that pid still is
  # our timer (its command line carries the token: after a reboot the pid may be reused)
  case "$opid" in ''|*[!0-9]*|0|1) ;; *) if tr '\\000' ' ' < "/proc/$opid/cmdline" 2>/dev/null | grep -q -F -e "$otok"; then kill -TERM "-$opid" 2>/dev/null || :; fi ;; esac
  rm -f "$d/pending"
  if [ -f "$d/before" ] || [ -f "$d/before.absent" ]; then keep=yes; fi
fi
rm -rf "$d"/confirm-*
if [ -z "$keep" ]; then
  rm -f "$d/before" "$d/before.absent"
  if [ -e "$p" ] || [ -L "$p" ]; then cp -pP "$p" "$d/before"; else : > "$d/before.absent"; fi
fi
tok="$(date +%s)-$$"
printf %s ${Buffer.from(wanted).toString('base64')} | base64 -d > "$t"
chmod 0644 "$t"
setsid sh -c ${timer} cairn-resolv-rollback "$d" "$p" "$tok" "$n" ${wantedSha} </dev/null >/dev/null 2>&1 &
echo "$tok $!" > "$d/pending"
mv -f "$t" "$p"
echo "switched $p; the previous file comes back in $n s unless confirmed (token $tok)"`;
  return sh`/bin/sh -c ${asWord(body)} || { rm -f ${`${path}.cairn-tmp`}; exit 1; }`;
}
