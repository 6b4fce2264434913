/**
 * Small helpers for a role's validate() (the host roles base, preflight, cni,
 * docker, dns use them; so can yours): check the vars before any connection,
 * every problem of every host at once, each pointing at the inventory line that
 * set the var (or the role's default).
 */
import type { InputProblem } from '../core/errors.ts';
import type { HostSpec, Vars } from '../inventory/types.ts';
import type { RoleValidationContext } from './role.ts';

/** One problem with one var, before its location is known. */
export interface VarProblem {
  readonly var: string;
  readonly message: string;
  readonly fix: string;
}

/**
 * Run `check` on every host of the role and turn its findings into InputProblems,
 * located where the var was set; the same problem on several hosts (a group var)
 * is reported once, naming the hosts.
 */
export function checkVars(role: string, ctx: RoleValidationContext, check: (vars: Vars, host: HostSpec) => VarProblem[]): InputProblem[] {
  const byKey = new Map<string, { problem: InputProblem; hosts: string[] }>();
  for (const host of ctx.hostsWithRole) {
    for (const p of check(ctx.varsFor(host), host)) {
      const location = ctx.locate(host, p.var) ?? { file: `role ${role} (defaults)` };
      const key = `${JSON.stringify(location)}\u0000${p.var}\u0000${p.message}`;
      const seen = byKey.get(key);
      if (seen) seen.hosts.push(host.name);
      else byKey.set(key, { problem: { location, message: `${role}: ${p.var} ${p.message}`, fix: p.fix }, hosts: [host.name] });
    }
  }
  return [...byKey.values()].map(({ problem, hosts }) => ({ ...problem, message: `${problem.message} (host${hosts.length > 1 ? 's' : ''} ${hosts.join(', ')})` }));
}

export const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
export const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A list of strings each matching `re`; problems otherwise. */
export function stringList(name: string, v: unknown, re: RegExp, example: string, opts: { allowEmpty?: boolean } = {}): VarProblem[] {
  if (!isStringList(v)) return [{ var: name, message: `must be a list of strings, got ${JSON.stringify(v)}`, fix: `e.g. ${name}: ${example}` }];
  if (!opts.allowEmpty && v.length === 0) return [{ var: name, message: 'must not be empty', fix: `e.g. ${name}: ${example}` }];
  const bad = v.filter((x) => !re.test(x));
  return bad.length ? [{ var: name, message: `has invalid entries: ${bad.map((b) => JSON.stringify(b)).join(', ')}`, fix: `e.g. ${name}: ${example}` }] : [];
}

export function oneOf(name: string, v: unknown, allowed: readonly string[]): VarProblem[] {
  return typeof v === 'string' && allowed.includes(v) ? [] : [{ var: name, message: `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`, fix: `e.g. ${name}: ${allowed[0]}` }];
}

export function boolean(name: string, v: unknown): VarProblem[] {
  return typeof v === 'boolean' ? [] : [{ var: name, message: `must be true or false, got ${JSON.stringify(v)}`, fix: `e.g. ${name}: true` }];
}

export function port(name: string, v: unknown): VarProblem[] {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? [] : [{ var: name, message: `must be a port number 1-65535, got ${JSON.stringify(v)}`, fix: `e.g. ${name}: 8600` }];
}

/** Package names as apk and apt take them. */
export const PACKAGE_NAME = /^[a-z0-9][a-z0-9.+_-]*$/;
