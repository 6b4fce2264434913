import { isSecret } from '../core/secret.ts';
import type { InputProblem } from '../core/errors.ts';
import type { HostSpec, Vars } from '../inventory/types.ts';
import { sh, type ShellCommand } from '../shell/sh.ts';
import { command } from '../operations/command.ts';
import type { Operation } from '../operations/operation.ts';

/**
 * Checks and steps shared by the consul and nomad roles (both HashiCorp
 * agents: same log settings, gossip key, binary, data dir rules).
 */

type Locate = (h: HostSpec, name: string) => InputProblem['location'];
const ABS = /^\/[A-Za-z0-9_.\/+@-]+$/;

export function agentVarProblems(p: 'nomad' | 'consul', host: HostSpec, vars: Vars, locate: Locate, portNames: readonly string[]): InputProblem[] {
  const out: InputProblem[] = [];
  const at = (name: string, message: string, fix: string) => out.push({ location: locate(host, name), message, fix });
  for (const k of [`${p}_bin`, `${p}_data_dir`, `${p}_config_dir`, `${p}_log_dir`]) {
    const v = vars[k];
    if (typeof v !== 'string' || !ABS.test(v)) at(k, `${k} must be an absolute path, got ${JSON.stringify(v)}`, `e.g. ${k}: /var/lib/${p}`);
  }
  const files = vars[`${p}_log_rotate_max_files`];
  if (!Number.isInteger(files) || (files as number) < 1) {
    at(
      `${p}_log_rotate_max_files`,
      `${p}_log_rotate_max_files must be a whole number >= 1, got ${JSON.stringify(files)}${files === 0 ? ` (0 keeps every rotated log file forever: the disk fills up)` : ''}`,
      `e.g. ${p}_log_rotate_max_files: 10`,
    );
  }
  const bytes = vars[`${p}_log_rotate_bytes`];
  if (!Number.isInteger(bytes) || (bytes as number) < 0) at(`${p}_log_rotate_bytes`, `${p}_log_rotate_bytes must be a whole number of bytes, got ${JSON.stringify(bytes)}`, `e.g. ${p}_log_rotate_bytes: 10485760`);
  const ports = vars[`${p}_ports`];
  if (!ports || typeof ports !== 'object' || Array.isArray(ports)) at(`${p}_ports`, `${p}_ports must be a map`, `e.g. ${p}_ports: { http: ${p === 'nomad' ? 4646 : 8500} }`);
  else
    for (const n of portNames) {
      const v = (ports as Record<string, unknown>)[n];
      if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 65535) at(`${p}_ports.${n}`, `${p}_ports.${n} must be a port number 1-65535, got ${JSON.stringify(v)}`, 'a whole number');
    }
  for (const k of [`${p}_server`, 'allow_even_servers', `${p}_service_notify`]) {
    const v = vars[k];
    if (v !== undefined && typeof v !== 'boolean') at(k, `${k} must be true or false, got ${JSON.stringify(v)}`, `write ${k}: true`);
  }
  const rj = vars[`${p}_retry_join`];
  if (rj !== undefined && (!Array.isArray(rj) || rj.some((x) => typeof x !== 'string' || x === ''))) at(`${p}_retry_join`, `${p}_retry_join must be a list of addresses, got ${JSON.stringify(rj)}`, `e.g. ${p}_retry_join: [10.0.0.11, 10.0.0.12, 10.0.0.13]`);
  const t = vars[`${p}_wait_timeout`];
  if (!Number.isInteger(t) || (t as number) < 1) at(`${p}_wait_timeout`, `${p}_wait_timeout must be whole seconds >= 1, got ${JSON.stringify(t)}`, `e.g. ${p}_wait_timeout: 120`);
  for (const k of [`${p}_datacenter`, `${p}_log_level`]) {
    const v = vars[k];
    if (typeof v !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(v)) at(k, `${k} must be a plain name, got ${JSON.stringify(v)}`, `e.g. ${k}: ${k.endsWith('datacenter') ? 'dc1' : 'INFO'}`);
  }
  const addr = vars.node_address;
  if (addr !== undefined && (typeof addr !== 'string' || addr === '')) at('node_address', `node_address must be this host's address as the other nodes reach it, got ${JSON.stringify(addr)}`, 'e.g. node_address: 10.0.0.11');
  const key = vars[`${p}_encrypt`];
  if (key !== undefined && key !== null && key !== '') {
    if (!isSecret(key)) {
      at(`${p}_encrypt`, `${p}_encrypt is a gossip encryption key written as plain text: it would be shown in diffs and logs`, `tag it: ${p}_encrypt: !secret "<key>" (or !secret_env ${p.toUpperCase()}_GOSSIP_KEY)`);
    } else if (!validGossipKey(key.reveal())) {
      at(`${p}_encrypt`, `${p}_encrypt is not a base64 encoded 16, 24 or 32 byte key (the agent would refuse to start)`, `generate one with \`${p} ${p === 'nomad' ? 'operator gossip keyring generate' : 'keygen'}\``);
    }
  }
  return out;
}

export function validGossipKey(key: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0) return false;
  const bytes = Buffer.from(key, 'base64').length;
  return bytes === 16 || bytes === 24 || bytes === 32;
}

/** Bake mode: an image must not carry node identity; the data dir is emptied when it is not. */
export function emptyDataDir(id: string, dir: string): Operation {
  return command({ id, run: sh`find ${dir} -mindepth 1 -maxdepth 1 -exec rm -rf {} +`, unless: sh`[ -z "$(ls -A ${dir} 2>/dev/null)" ]` });
}

/** Last log lines, printed when a wait times out. */
export function logTail(unit: string, ...files: string[]): ShellCommand {
  return sh`for f in ${files}; do if [ -f "$f" ]; then echo "--- last lines of $f:"; tail -n 15 "$f"; fi; done
if [ -d /run/systemd/system ] && command -v journalctl >/dev/null 2>&1; then echo ${`--- journalctl -u ${unit}:`}; journalctl -u ${unit} -n 15 --no-pager; fi`;
}
