import type { InputProblem, SourceLocation } from '../../core/errors.ts';
import { PROXY_JUMP_PATTERN, type RawHost } from '../schema.ts';
import type { Vars } from '../types.ts';
import { splitWords } from './ini-words.ts';

/** ansible_* vars that say how to connect: read into the host's settings, never kept as vars. */
const MAPPED = [
  'ansible_host', 'ansible_ssh_host', 'ansible_port', 'ansible_ssh_port', 'ansible_user', 'ansible_ssh_user',
  'ansible_become', 'ansible_become_method', 'ansible_become_user', 'ansible_ssh_private_key_file', 'ansible_private_key_file',
  'ansible_connection', 'ansible_ssh_common_args', 'ansible_ssh_extra_args',
];
/** Connection vars cairn cannot honour: a problem, so a host is not reached differently than intended. */
const REFUSED: Record<string, string> = {
  ansible_password: 'cairn takes a login password only as a secret, not from inventory text: use keys (ansible_ssh_private_key_file, an ssh-agent), --ask-pass, or password: !secret_env NAME in a cairn inventory',
  ansible_ssh_pass: 'cairn takes a login password only as a secret, not from inventory text: use keys (ansible_ssh_private_key_file, an ssh-agent), --ask-pass, or password: !secret_env NAME in a cairn inventory',
  ansible_become_password: 'cairn takes a become password only as a secret, not from inventory text: allow passwordless sudo or doas, pass --ask-become-pass, or set become_password: !secret_env NAME in a cairn inventory',
  ansible_become_pass: 'cairn takes a become password only as a secret, not from inventory text: allow passwordless sudo or doas, pass --ask-become-pass, or set become_password: !secret_env NAME in a cairn inventory',
};
/** Connection vars with no meaning for cairn (no Python, no pipelining): dropped. */
const IGNORED = new Set([
  'ansible_group_priority', 'ansible_python_interpreter', 'ansible_pipelining', 'ansible_ssh_pipelining', 'ansible_shell_type',
  'ansible_shell_executable', 'ansible_ssh_executable', 'ansible_scp_extra_args', 'ansible_sftp_extra_args',
  'ansible_ssh_transfer_method', 'ansible_host_key_checking', 'ansible_ssh_host_key_checking', 'ansible_timeout', 'ansible_ssh_timeout',
]);

/** Whether an inventory var is one of Ansible's connection vars (consumed, not passed to roles). */
export function isConnectionVar(key: string): boolean {
  return MAPPED.includes(key) || key in REFUSED || IGNORED.has(key) || /^ansible_\w+_interpreter$/.test(key);
}

export type ConnectionFields = Pick<RawHost, 'address' | 'port' | 'user' | 'identity' | 'become' | 'connection' | 'root' | 'proxy_jump'>;

/**
 * The cairn settings of host `name` from its merged Ansible vars. `locate`
 * tells where a var's winning definition is written, for problems.
 */
export function connectionFields(name: string, vars: Vars, locate: (key: string) => SourceLocation): { fields: ConnectionFields; problems: InputProblem[] } {
  const problems: InputProblem[] = [];
  const fields: ConnectionFields = {};
  const problem = (key: string, message: string, fix: string) => problems.push({ location: locate(key), message: `host '${name}': ${message}`, fix });
  const text = (...keys: string[]): { key: string; value: string } | undefined => {
    const key = keys.find((k) => vars[k] !== undefined && vars[k] !== null);
    if (key === undefined) return undefined;
    const v = vars[key];
    if (typeof v !== 'string' && typeof v !== 'number') return problem(key, `${key} must be text, got ${JSON.stringify(v)}`, `write ${key}=value`), undefined;
    const value = String(v);
    if (/\{\{|\{%/.test(value)) return problem(key, `${key} is a Jinja template ('${value}'): cairn does not evaluate templates in an inventory`, `write the value itself, e.g. ${key}=10.0.0.5`), undefined;
    if (value === '' || /\s/.test(value)) return problem(key, `${key} must be one word, got '${value}'`, `write ${key}=value without spaces`), undefined;
    return { key, value };
  };

  const kind = text('ansible_connection');
  const address = text('ansible_host', 'ansible_ssh_host');
  if (kind) readKind(kind.value, address?.value ?? name, fields, (m, f) => problem(kind.key, m, f));
  if (address && fields.connection !== 'chroot' && address.value !== name) fields.address = address.value;

  const port = text('ansible_port', 'ansible_ssh_port');
  if (port) {
    const n = Number(port.value);
    if (Number.isInteger(n) && n >= 1 && n <= 65535) fields.port = n;
    else problem(port.key, `${port.key} must be a whole number 1-65535, got '${port.value}'`, `write ${port.key}=22`);
  }
  const user = text('ansible_user', 'ansible_ssh_user');
  if (user) fields.user = user.value;
  const key = text('ansible_ssh_private_key_file', 'ansible_private_key_file');
  if (key) fields.identity = key.value;

  readBecome(vars, text, (k, m, f) => problem(k, m, f), fields);
  for (const k of ['ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
    const v = vars[k];
    if (v === undefined || v === null || v === '') continue;
    readSshArgs(k, String(v), fields, (m, f) => problem(k, m, f));
  }
  for (const [k, fix] of Object.entries(REFUSED)) if (vars[k] !== undefined && vars[k] !== null) problem(k, `${k} is not supported`, fix);
  return { fields, problems };
}

function readKind(kind: string, address: string, fields: ConnectionFields, problem: (m: string, f: string) => void): void {
  if (kind === 'ssh' || kind === 'smart' || kind === 'paramiko' || kind === 'ansible.builtin.ssh') return;
  if (kind === 'local' || kind === 'ansible.builtin.local') fields.connection = 'local';
  else if (kind === 'chroot' || kind === 'community.general.chroot') {
    if (!address.startsWith('/')) return problem(`ansible_connection=chroot needs the chroot directory as an absolute path (ansible_host or the host name), got '${address}'`, 'set ansible_host=/mnt/rpi-image');
    fields.connection = 'chroot';
    fields.root = address;
  } else problem(`ansible_connection '${kind}' is not supported`, "cairn connects with 'ssh', 'local' or 'chroot'");
}

const TRUE = new Set(['true', 'yes', 'on', 'y', 't', '1']);
const FALSE = new Set(['false', 'no', 'off', 'n', 'f', '0', '']);

function readBecome(
  vars: Vars,
  text: (...keys: string[]) => { key: string; value: string } | undefined,
  problem: (key: string, m: string, f: string) => void,
  fields: ConnectionFields,
): void {
  const raw = vars['ansible_become'];
  if (raw === undefined || raw === null) return;
  const word = String(raw).toLowerCase();
  if (!TRUE.has(word)) {
    if (!FALSE.has(word)) problem('ansible_become', `ansible_become must be true or false, got '${String(raw)}'`, 'write ansible_become=true');
    return;
  }
  const method = text('ansible_become_method');
  const m = method?.value ?? 'sudo';
  if (m !== 'sudo' && m !== 'doas') {
    problem(method!.key, `ansible_become_method '${m}' is not supported`, 'cairn becomes root with sudo or doas: write ansible_become_method=sudo (or doas)');
    return;
  }
  const user = text('ansible_become_user');
  if (user && user.value !== 'root') {
    problem(user.key, `ansible_become_user '${user.value}' is not supported: cairn becomes root`, 'remove ansible_become_user (or set it to root)');
    return;
  }
  fields.become = m;
}

/** -J host, -o ProxyJump=host and a plain `ssh -W %h:%p host` ProxyCommand become proxy_jump; nothing else is read. */
function readSshArgs(key: string, args: string, fields: ConnectionFields, problem: (m: string, f: string) => void): void {
  const words = splitWords(args);
  if (typeof words === 'string') return problem(`cannot read ${key}: ${words}`, 'close the quote');
  const list = words.map((w) => w.text);
  const rest: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const w = list[i]!;
    let jump: string | undefined;
    if (w === '-J') jump = list[++i];
    else if (w.startsWith('-J')) jump = w.slice(2);
    else if (w === '-o' || w.startsWith('-o')) {
      const opt = w === '-o' ? (list[++i] ?? '') : w.slice(2);
      const m = /^(\w+)\s*[= ]\s*(.*)$/.exec(opt);
      if (m && m[1]!.toLowerCase() === 'proxyjump') jump = m[2];
      else if (m && m[1]!.toLowerCase() === 'proxycommand') jump = /^ssh\s+(?:-q\s+)?-W\s+%h:%p\s+(?:-q\s+)?(\S+)$/.exec(m[2]!.trim())?.[1];
      if (jump === undefined) rest.push(`-o ${opt}`);
    } else rest.push(w);
    if (jump !== undefined) {
      if (new RegExp(PROXY_JUMP_PATTERN).test(jump)) fields.proxy_jump = jump;
      else rest.push(`ProxyJump ${jump}`);
    }
  }
  if (rest.length > 0) {
    problem(
      `${key} has ssh options cairn does not pass on: ${rest.join(' ')}`,
      'put them in ~/.ssh/config under a Host entry for this host (cairn honours it; connection.ssh_config in the overlay names another file); only -J / ProxyJump is read from here',
    );
  }
}
