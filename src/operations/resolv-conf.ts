import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { sh, type ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import { change, fail, noop, type ApplyRuntime, type OpContext, type Operation, type Plan } from './operation.ts';
import { checkId, paramError, parseSections, section, paramNames, rejectUnknownParams, isFail } from './kit.ts';
import { checkAbsPath } from './path-params.ts';
import { asText } from './file-content.ts';
import { readPathProbe } from './path-operation.ts';
import { pathStateCommand } from '../facts/path-state.ts';
import { unifiedDiff } from './diff.ts';
import { DNS_NAME } from './dns-query.ts';
import { switchCommand } from './guard/switch-script.ts';
import { confirmSwitch } from './guard/confirm.ts';

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
 * The switch and the confirm are the guarded-change primitive (guard/), shared
 * with every change that can cut cairn off (sshd, hostname, network).
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
      return change(reason, [switchCommand({ files: [{ path, content: Buffer.from(wanted), mode: '0644' }], stateDir, seconds, timerName: 'cairn-resolv-rollback' })], diff, warnings.length ? warnings : undefined);
    },
    async afterChange(rt: ApplyRuntime): Promise<void> {
      await confirmSwitch(rt, { stateDir, seconds, what: path, freshLogin, ...(verify ? { checks: (r) => resolves(r, verify) } : {}) });
    },
  };
}

/** The verify name resolves through the host's libc (getent: nsswitch + the new resolv.conf), to the address when given. */
async function resolves(rt: ApplyRuntime, verify: { readonly name: string; readonly address?: string }): Promise<string[]> {
  const r = await rt.run(sh`getent hosts ${verify.name} 2>&1 || { rc=$?; echo "getent exit $rc"; exit $rc; }`, { timeoutMs: 60_000 });
  const addresses = r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter((a): a is string => !!a && isIP(a) !== 0);
  if (r.exitCode !== 0 || addresses.length === 0) return [`${verify.name} does not resolve through the host's resolver after the switch (getent hosts: ${(r.stdout + r.stderr).trim() || `exit ${r.exitCode}`})`];
  if (verify.address !== undefined && !addresses.includes(verify.address)) return [`${verify.name} resolves to ${addresses.join(', ')} after the switch, expected ${verify.address}`];
  return [];
}
