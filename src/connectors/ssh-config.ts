import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HostSpec, ConnectionSettings } from '../inventory/types.ts';
import { patternListMatches } from './known-hosts.ts';
import { globMatch, hasWildcard } from '../core/glob.ts';

/**
 * cairn's own reader of the OpenSSH client configuration (ssh_config(5)), used
 * when the OpenSSH client is not installed (otherwise `ssh -G` answers, see
 * ssh-g.ts). It honours Host blocks (`*`, `?`, `!` patterns), Include, and the
 * keys in HONOURED_KEYWORDS. Like OpenSSH, the first value obtained for a key
 * wins (IdentityFile and CertificateFile accumulate; ProxyCommand and ProxyJump
 * exclude each other). `Match` blocks and every other keyword are not honoured:
 * each one is a note with file:line (printed once per run, config-notes.ts).
 */

export interface SshConfigDirective {
  kind: 'directive';
  /** Lower-cased keyword. */
  keyword: string;
  args: string[];
  /** The rest of the line after the keyword, as written (ProxyCommand keeps its quotes). */
  raw: string;
  file: string;
  line: number;
}

export interface SshConfigInclude {
  kind: 'include';
  /** Parsed included files, in glob order. */
  files: SshConfigFile[];
  file: string;
  line: number;
}

export type SshConfigItem = SshConfigDirective | SshConfigInclude;

export interface SshConfigSection {
  /** null: before any Host/Match line (applies to every host). */
  condition: null | { kind: 'host'; patterns: string[] } | { kind: 'match'; criteria: string };
  file: string;
  line: number;
  items: SshConfigItem[];
}

export interface SshConfigFile {
  file: string;
  sections: SshConfigSection[];
}

export interface SshConfig {
  root: SshConfigFile;
  /** Things cairn skipped or could not read, with file:line. */
  notes: string[];
}

export interface SshConfigParseOptions {
  /** File name for messages and for nothing else. */
  file?: string;
  /** Directory relative Include paths are resolved against (default ~/.ssh). */
  includeDir?: string;
  home?: string;
  /** Read an included file; default fs.readFileSync. */
  readFile?: (file: string) => string;
  /** Expand an Include glob to file names; default: a small glob over the file system. */
  glob?: (pattern: string) => string[];
}

/** Keywords the built-in reader acts on (lower case); Host, Match and Include are handled by the parser. */
export const HONOURED_KEYWORDS: ReadonlySet<string> = new Set([
  'hostname',
  'port',
  'user',
  'identityfile',
  'identitiesonly',
  'identityagent',
  'certificatefile',
  'proxyjump',
  'proxycommand',
  'userknownhostsfile',
  'stricthostkeychecking',
  'hashknownhosts',
  'connecttimeout',
]);

/** Split a config line into words: whitespace separated, "double quotes" group, `#` starts a comment. */
export function splitConfigLine(text: string): { keyword: string; args: string[]; raw: string } | undefined {
  const s = text.trim();
  if (s === '' || s.startsWith('#')) return undefined;
  const m = /^([A-Za-z][A-Za-z0-9]*)(\s*=\s*|\s+|$)(.*)$/.exec(s);
  if (!m) return { keyword: s, args: [], raw: '' };
  const keyword = m[1]!;
  const rest = m[3] ?? '';
  const args: string[] = [];
  let i = 0;
  while (i < rest.length) {
    while (i < rest.length && /\s/.test(rest[i]!)) i++;
    if (i >= rest.length) break;
    if (rest[i] === '#') break;
    let word = '';
    if (rest[i] === '"') {
      i++;
      while (i < rest.length && rest[i] !== '"') word += rest[i++];
      i++; // closing quote
    } else {
      while (i < rest.length && !/\s/.test(rest[i]!)) {
        if (rest[i] === '"') {
          i++;
          while (i < rest.length && rest[i] !== '"') word += rest[i++];
          i++;
        } else word += rest[i++];
      }
    }
    args.push(word);
  }
  return { keyword, args, raw: rest.trim() };
}

function expandTildePath(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return path.join(home, p.slice(2));
  return p;
}

/** A minimal glob (`*`, `?` in any path component, case-sensitive), results sorted like glob(3). */
export function simpleGlob(pattern: string): string[] {
  const abs = path.resolve(pattern);
  const parts = abs.split('/').filter((p) => p !== '');
  let current = ['/'];
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    const next: string[] = [];
    for (const dir of current) {
      if (!hasWildcard(part)) {
        const p = path.join(dir, part);
        if (last ? fs.existsSync(p) : isDir(p)) next.push(p);
        continue;
      }
      let names: string[] = [];
      try {
        names = fs.readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names.sort()) {
        if (n.startsWith('.') && !part.startsWith('.')) continue;
        if (!globMatch(n, part)) continue;
        const p = path.join(dir, n);
        if (last || isDir(p)) next.push(p);
      }
    }
    current = next;
  }
  return current;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Parse ssh_config text. Include lines are read and parsed now (recursively, depth-limited). */
export function parseSshConfig(text: string, options: SshConfigParseOptions = {}): SshConfig {
  const home = options.home ?? os.homedir();
  const notes: string[] = [];
  const opts: Required<SshConfigParseOptions> = {
    file: options.file ?? 'ssh_config',
    includeDir: options.includeDir ?? path.join(home, '.ssh'),
    home,
    readFile: options.readFile ?? ((f) => fs.readFileSync(f, 'utf8')),
    glob: options.glob ?? simpleGlob,
  };
  const root = parseFile(text, opts.file, opts, notes, 0);
  return { root, notes };
}

function parseFile(text: string, file: string, opts: Required<SshConfigParseOptions>, notes: string[], depth: number): SshConfigFile {
  const sections: SshConfigSection[] = [{ condition: null, file, line: 0, items: [] }];
  let current = sections[0]!;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const parsed = splitConfigLine(raw);
    if (!parsed) return;
    const keyword = parsed.keyword.toLowerCase();
    if (keyword === 'host') {
      current = { condition: { kind: 'host', patterns: parsed.args }, file, line, items: [] };
      sections.push(current);
      return;
    }
    if (keyword === 'match') {
      current = { condition: { kind: 'match', criteria: parsed.args.join(' ') }, file, line, items: [] };
      sections.push(current);
      notes.push(`${file}:${line}: "Match ${parsed.args.join(' ')}" is not supported by cairn's own ssh_config reader; the block was skipped`);
      return;
    }
    if (keyword === 'include') {
      if (depth >= 16) {
        notes.push(`${file}:${line}: Include nested too deeply; skipped`);
        return;
      }
      const files: SshConfigFile[] = [];
      for (const arg of parsed.args) {
        let p = expandTildePath(arg, opts.home);
        if (!path.isAbsolute(p)) p = path.join(opts.includeDir, p);
        const matches = hasWildcard(p) ? opts.glob(p) : [p];
        for (const f of matches) {
          let t: string;
          try {
            t = opts.readFile(f);
          } catch (err) {
            // OpenSSH silently ignores missing include files
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') notes.push(`${file}:${line}: cannot read included ${f}: ${(err as Error).message}`);
            continue;
          }
          files.push(parseFile(t, f, opts, notes, depth + 1));
        }
      }
      current.items.push({ kind: 'include', files, file, line });
      return;
    }
    if (!HONOURED_KEYWORDS.has(keyword)) notes.push(`${file}:${line}: ${parsed.keyword} is not honoured by cairn's own ssh_config reader; ignored`);
    current.items.push({ kind: 'directive', keyword, args: parsed.args, raw: parsed.raw, file, line });
  });
  return { file, sections };
}

/** Read and parse a config file; a missing file gives an empty config. */
export function loadSshConfig(file?: string, options: Omit<SshConfigParseOptions, 'file'> = {}): SshConfig {
  const home = options.home ?? os.homedir();
  const f = file ? expandTildePath(file, home) : path.join(home, '.ssh', 'config');
  let text = '';
  try {
    text = fs.readFileSync(f, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || file) {
      const notes = [`cannot read ssh config ${f}: ${(err as Error).message}`];
      return { root: { file: f, sections: [] }, notes };
    }
  }
  return parseSshConfig(text, { ...options, home, file: f });
}

export type StrictHostKeyChecking = 'yes' | 'no' | 'accept-new' | 'ask';

/** The values ssh_config gives for one host (raw, before merging with the inventory). */
export interface SshConfigValues {
  hostname?: string;
  port?: number;
  user?: string;
  identityFiles: string[];
  /** Raw ProxyJump value ('none' included). Only one of proxyJump and proxyCommand: the first obtained. */
  proxyJump?: string;
  /** Raw ProxyCommand value, tokens not expanded ('none' included). */
  proxyCommand?: string;
  identitiesOnly?: boolean;
  /** Raw IdentityAgent value: a socket path, SSH_AUTH_SOCK or none. */
  identityAgent?: string;
  /** CertificateFile entries (cairn refuses them: ssh2 cannot log in with a certificate). */
  certificateFiles: string[];
  hashKnownHosts?: boolean;
  userKnownHostsFiles?: string[];
  strictHostKeyChecking?: StrictHostKeyChecking;
  connectTimeoutSec?: number;
  /** Where each value came from (keyword -> file:line). */
  origins: Record<string, string>;
  notes: string[];
}

/** Host line matching: any positive pattern matches and no negated one does; case-insensitive. */
export function hostPatternsMatch(host: string, patterns: readonly string[]): boolean {
  return patternListMatches(host, patterns);
}

/** Collect ssh_config values for `host` (the name as typed: inventory address or alias). First value wins. */
export function lookupSshConfig(config: SshConfig, host: string): SshConfigValues {
  const out: SshConfigValues = { identityFiles: [], certificateFiles: [], origins: {}, notes: [...config.notes] };
  const walk = (file: SshConfigFile): void => {
    for (const section of file.sections) {
      const c = section.condition;
      const active = c === null ? true : c.kind === 'host' ? hostPatternsMatch(host, c.patterns) : false;
      if (!active) continue;
      for (const item of section.items) {
        if (item.kind === 'include') item.files.forEach(walk);
        else apply(out, item);
      }
    }
  };
  walk(config.root);
  return out;
}

function apply(out: SshConfigValues, d: SshConfigDirective): void {
  const where = `${d.file}:${d.line}`;
  const arg = d.args[0];
  const first = <K extends keyof SshConfigValues>(key: K, value: SshConfigValues[K] | undefined): void => {
    if (out[key] !== undefined || value === undefined) return;
    out[key] = value;
    out.origins[key] = where;
  };
  switch (d.keyword) {
    case 'hostname':
      first('hostname', arg);
      break;
    case 'port': {
      const n = Number(arg);
      if (Number.isInteger(n) && n > 0 && n < 65536) first('port', n);
      else out.notes.push(`${where}: bad Port ${arg ?? ''}; ignored`);
      break;
    }
    case 'user':
      first('user', arg);
      break;
    case 'identityfile':
      if (arg !== undefined) {
        out.identityFiles.push(arg);
        out.origins[`identityFile:${arg}`] = where;
      }
      break;
    case 'proxyjump':
      // OpenSSH: ProxyJump and ProxyCommand exclude each other, the first obtained wins ('none' too)
      if (out.proxyCommand === undefined) first('proxyJump', arg);
      break;
    case 'proxycommand':
      if (out.proxyJump === undefined && d.raw !== '') first('proxyCommand', d.raw);
      break;
    case 'identitiesonly': {
      const v = yesNo(arg);
      if (v !== undefined) first('identitiesOnly', v);
      else out.notes.push(`${where}: bad IdentitiesOnly ${arg ?? ''}; ignored`);
      break;
    }
    case 'identityagent':
      first('identityAgent', arg);
      break;
    case 'certificatefile':
      if (arg !== undefined) {
        out.certificateFiles.push(arg);
        out.origins[`certificateFile:${arg}`] = where;
      }
      break;
    case 'hashknownhosts': {
      const v = yesNo(arg);
      if (v !== undefined) first('hashKnownHosts', v);
      else out.notes.push(`${where}: bad HashKnownHosts ${arg ?? ''}; ignored`);
      break;
    }
    case 'userknownhostsfile':
      if (d.args.length) first('userKnownHostsFiles', d.args);
      break;
    case 'stricthostkeychecking': {
      const v = (arg ?? '').toLowerCase();
      const map: Record<string, StrictHostKeyChecking> = { yes: 'yes', true: 'yes', no: 'no', false: 'no', off: 'no', 'accept-new': 'accept-new', ask: 'ask' };
      if (map[v]) first('strictHostKeyChecking', map[v]);
      else out.notes.push(`${where}: bad StrictHostKeyChecking ${arg ?? ''}; ignored`);
      break;
    }
    case 'connecttimeout': {
      const n = Number(arg);
      if (Number.isFinite(n) && n > 0) first('connectTimeoutSec', n);
      else if (arg?.toLowerCase() !== 'none') out.notes.push(`${where}: bad ConnectTimeout ${arg ?? ''}; ignored`);
      break;
    }
    default:
      break;
  }
}

function yesNo(v: string | undefined): boolean | undefined {
  const s = (v ?? '').toLowerCase();
  if (s === 'yes' || s === 'true') return true;
  if (s === 'no' || s === 'false') return false;
  return undefined;
}

/** One hop of a ProxyJump chain as written: [user@]host[:port] or ssh://[user@]host[:port]. */
export interface JumpSpec {
  user?: string;
  host: string;
  port?: number;
}

/** Parse a ProxyJump value; 'none' (or empty) gives []. Throws on a malformed hop. */
export function parseProxyJump(value: string | undefined): JumpSpec[] {
  if (value === undefined) return [];
  const v = value.trim();
  if (v === '' || v.toLowerCase() === 'none') return [];
  return v.split(',').map((hop) => {
    let s = hop.trim().replace(/^ssh:\/\//, '');
    const spec: JumpSpec = { host: '' };
    const at = s.lastIndexOf('@');
    if (at >= 0) {
      spec.user = s.slice(0, at);
      s = s.slice(at + 1);
    }
    let m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
    if (!m) m = /^([^:]+)(?::(\d+))?$/.exec(s);
    if (!m || !m[1]) throw new Error(`bad ProxyJump hop "${hop}": expected [user@]host[:port]`);
    spec.host = m[1];
    if (m[2] !== undefined) {
      const port = Number(m[2]);
      if (!(port > 0 && port < 65536)) throw new Error(`bad port in ProxyJump hop "${hop}"`);
      spec.port = port;
    }
    return spec;
  });
}

export interface ResolveEnv {
  home?: string;
  /** Local user name (OpenSSH's default remote user and %u). */
  localUser?: string;
  settings?: Pick<ConnectionSettings, 'knownHosts' | 'connectTimeoutMs'>;
  /** Check that default identity files exist (default: fs.existsSync). */
  exists?: (file: string) => boolean;
  /** Environment for IdentityAgent ${VAR} and SSH_AUTH_SOCK (default process.env). */
  environ?: Record<string, string | undefined>;
}

/**
 * Where ssh_config values for a name come from: cairn's own reader over a
 * parsed SshConfig, or OpenSSH itself (`ssh -G`, ssh-g.ts), which is given the
 * inventory's port and user as OpenSSH's command line would be (-p, -l), so
 * `Match user` and %r see them.
 */
export type SshConfigLookup = (alias: string, given: { port?: number; user?: string }) => SshConfigValues;

/** The built-in reader as a lookup. */
export function builtinLookup(config: SshConfig): SshConfigLookup {
  return (alias) => lookupSshConfig(config, alias);
}

/** Where a connection goes and how, after merging inventory, ssh_config and defaults. */
export interface SshTarget {
  /** The name given (inventory address, jump hop host): what ssh_config Host patterns match. */
  alias: string;
  hostname: string;
  port: number;
  user: string;
  /** Private key files to try, in order (absolute). */
  identityFiles: string[];
  /** known_hosts files to check; new keys are recorded in the first. */
  knownHostsFiles: string[];
  strictHostKeyChecking: StrictHostKeyChecking;
  /** undefined: use the caller's default. */
  connectTimeoutMs?: number;
  /** ProxyCommand (tokens expanded) run instead of a TCP connection; only the first hop may have one. */
  proxyCommand?: string;
  /** IdentitiesOnly yes: offer only the identity files' keys (from the agent too, none other). */
  identitiesOnly: boolean;
  /** IdentityAgent: a socket path or 'none'; undefined: the connector's default ($SSH_AUTH_SOCK). */
  identityAgent?: string;
  /** HashKnownHosts yes: a new host key is recorded with a hashed name. */
  hashKnownHosts: boolean;
  /** Where values came from, for messages: e.g. { user: 'inventory', port: '~/.ssh/config:4' }. */
  origins: Record<string, string>;
  notes: string[];
}

export interface ResolvedSshTarget extends SshTarget {
  /** Inventory host name. */
  name: string;
  /** Jump hosts, first hop first; [] = direct. */
  jumps: SshTarget[];
}

export function expandTokens(value: string, tokens: Record<string, string>): string {
  return value.replace(/%(.)/g, (all, c: string) => (c === '%' ? '%' : (tokens[c] ?? all)));
}

/** `${VAR}` environment references, as OpenSSH expands them in IdentityAgent, IdentityFile and the like. */
function expandEnv(value: string, environ: Record<string, string | undefined>, what: string): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_all, name: string) => {
    const v = environ[name];
    if (v === undefined) throw new Error(`${what}: environment variable ${name} is not set`);
    return v;
  });
}

const DEFAULT_IDENTITIES = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_dsa'];

function resolveOne(
  alias: string,
  given: { port?: number; user?: string; identity?: string[] },
  lookup: SshConfigLookup | undefined,
  env: Required<Omit<ResolveEnv, 'settings'>> & { settings?: ResolveEnv['settings'] },
  givenOrigin: string,
  fallbackIdentity: readonly string[] = [],
): SshTarget & { proxyJump?: string; proxyCommandRaw?: string } {
  const lookupGiven: { port?: number; user?: string } = {};
  if (given.port !== undefined) lookupGiven.port = given.port;
  if (given.user !== undefined) lookupGiven.user = given.user;
  const values: SshConfigValues = lookup ? lookup(alias, lookupGiven) : { identityFiles: [], certificateFiles: [], origins: {}, notes: [] };
  if (values.certificateFiles.length > 0) throw new Error(certificateRefusal(alias, values));
  const origins: Record<string, string> = {};
  const hostname = values.hostname !== undefined ? expandTokens(values.hostname, { h: alias }) : alias;
  origins.hostname = values.hostname !== undefined ? values.origins.hostname! : 'name';
  let port = 22;
  origins.port = 'default';
  if (given.port !== undefined) [port, origins.port] = [given.port, givenOrigin];
  else if (values.port !== undefined) [port, origins.port] = [values.port, values.origins.port!];
  let user = env.localUser;
  origins.user = 'default (local user)';
  if (given.user !== undefined) [user, origins.user] = [given.user, givenOrigin];
  else if (values.user !== undefined) [user, origins.user] = [values.user, values.origins.user!];
  const tokens = { h: hostname, d: env.home, u: env.localUser, r: user, p: String(port), n: alias };
  const expandPath = (p: string): string => {
    const t = expandTildePath(expandTokens(p, tokens), env.home);
    return path.resolve(t);
  };
  const identityFiles: string[] = [];
  for (const f of given.identity ?? []) {
    const p = expandPath(f);
    if (!identityFiles.includes(p)) {
      identityFiles.push(p);
      origins[`identity:${p}`] = givenOrigin;
    }
  }
  for (const f of values.identityFiles) {
    const p = expandPath(f);
    if (!identityFiles.includes(p)) {
      identityFiles.push(p);
      origins[`identity:${p}`] = values.origins[`identityFile:${f}`] ?? 'ssh_config';
    }
  }
  for (const f of fallbackIdentity) {
    const p = expandPath(f);
    if (!identityFiles.includes(p)) {
      identityFiles.push(p);
      origins[`identity:${p}`] = 'inventory (the host identity, also tried for jump hosts)';
    }
  }
  if (identityFiles.length === 0) {
    for (const n of DEFAULT_IDENTITIES) {
      const p = path.join(env.home, '.ssh', n);
      if (env.exists(p)) {
        identityFiles.push(p);
        origins[`identity:${p}`] = 'default';
      }
    }
  }
  let knownHostsFiles: string[];
  if (env.settings?.knownHosts) {
    knownHostsFiles = [expandPath(env.settings.knownHosts)];
    origins.knownHosts = 'inventory';
  } else if (values.userKnownHostsFiles && values.userKnownHostsFiles.length) {
    knownHostsFiles = values.userKnownHostsFiles.filter((f) => f.toLowerCase() !== 'none').map(expandPath);
    origins.knownHosts = values.origins.userKnownHostsFiles!;
  } else {
    knownHostsFiles = [path.join(env.home, '.ssh', 'known_hosts')];
    origins.knownHosts = 'default';
  }
  let identityAgent: string | undefined;
  if (values.identityAgent !== undefined) {
    const raw = values.identityAgent;
    const what = `IdentityAgent ${raw} (${values.origins.identityAgent})`;
    if (raw.toLowerCase() === 'none') identityAgent = 'none';
    else if (raw === 'SSH_AUTH_SOCK') identityAgent = env.environ.SSH_AUTH_SOCK ?? 'none';
    else if (/^\$[A-Za-z_][A-Za-z0-9_]*$/.test(raw)) identityAgent = env.environ[raw.slice(1)] ?? 'none';
    else identityAgent = expandPath(expandEnv(raw, env.environ, what));
    origins.identityAgent = values.origins.identityAgent!;
  }
  const strictHostKeyChecking = values.strictHostKeyChecking ?? 'yes';
  origins.strictHostKeyChecking = values.origins.strictHostKeyChecking ?? 'default';
  let connectTimeoutMs: number | undefined;
  if (env.settings?.connectTimeoutMs && env.settings.connectTimeoutMs > 0) {
    connectTimeoutMs = env.settings.connectTimeoutMs;
    origins.connectTimeout = 'inventory';
  } else if (values.connectTimeoutSec !== undefined) {
    connectTimeoutMs = values.connectTimeoutSec * 1000;
    origins.connectTimeout = values.origins.connectTimeoutSec!;
  }
  const t: SshTarget & { proxyJump?: string; proxyCommandRaw?: string } = {
    alias,
    hostname,
    port,
    user,
    identityFiles,
    knownHostsFiles,
    strictHostKeyChecking,
    identitiesOnly: values.identitiesOnly ?? false,
    hashKnownHosts: values.hashKnownHosts ?? false,
    origins,
    notes: values.notes,
  };
  if (values.identitiesOnly !== undefined) origins.identitiesOnly = values.origins.identitiesOnly!;
  if (values.hashKnownHosts !== undefined) origins.hashKnownHosts = values.origins.hashKnownHosts!;
  if (identityAgent !== undefined) t.identityAgent = identityAgent;
  if (connectTimeoutMs !== undefined) t.connectTimeoutMs = connectTimeoutMs;
  if (values.proxyJump !== undefined) {
    t.proxyJump = values.proxyJump;
    origins.proxyJump = values.origins.proxyJump!;
  }
  if (values.proxyCommand !== undefined) {
    t.proxyCommandRaw = values.proxyCommand;
    origins.proxyCommand = values.origins.proxyCommand!;
  }
  return t;
}

/** Why a host with CertificateFile is refused, where it is set, and what to do. */
function certificateRefusal(alias: string, values: SshConfigValues): string {
  const list = values.certificateFiles.map((f) => `${f} (${values.origins[`certificateFile:${f}`] ?? 'ssh_config'})`).join(', ');
  return (
    `CertificateFile ${list} applies to ${alias}, but cairn's SSH library (ssh2) cannot log in with an OpenSSH user certificate. ` +
    `Refusing to connect rather than log in some other way. Fix: remove the CertificateFile line for this host (or put it in a Host block that does not match ${alias}), ` +
    'and authorize a plain key for cairn (its public key in ~/.ssh/authorized_keys on the host, or an AuthorizedKeysCommand), set as identity in the inventory or IdentityFile.'
  );
}

/**
 * A ProxyCommand with its tokens expanded as OpenSSH does (%h host name,
 * %p port, %r remote user, %n the name as given, %%), substituted raw like
 * OpenSSH. Any other token is an error (OpenSSH refuses them too), and so is a
 * substituted host or user name with characters a shell would act on: cairn
 * does not send those into /bin/sh.
 */
export function expandProxyCommand(command: string, t: Pick<SshTarget, 'hostname' | 'port' | 'user' | 'alias'>, origin: string): string {
  const values: Record<string, [string, string]> = {
    h: [t.hostname, 'host name'],
    p: [String(t.port), 'port'],
    r: [t.user, 'user'],
    n: [t.alias, 'host alias'],
  };
  return command.replace(/%(.?)/g, (_all, c: string) => {
    if (c === '%') return '%';
    const v = values[c];
    if (!v) throw new Error(`ProxyCommand ${command} (${origin}): unknown token %${c}; OpenSSH's ProxyCommand accepts %%, %h, %n, %p and %r`);
    const [value, what] = v;
    if (!/^[A-Za-z0-9_.:@+-]+$/.test(value) || value.startsWith('-')) {
      throw new Error(
        `ProxyCommand ${command} (${origin}): the ${what} ${JSON.stringify(value)} for %${c} has characters a shell would act on (OpenSSH puts it in raw); ` +
          'cairn refuses to run it. Use a plain host name, address and user (letters, digits, . _ - : @ +).',
      );
    }
    return value;
  });
}

/**
 * Where and how to connect to an ssh host. Precedence, highest first:
 *
 * 1. the inventory (HostSpec port, user, identity, proxyJump; ConnectionSettings
 *    knownHosts and connectTimeoutMs),
 * 2. ssh_config values for the host's address (first obtained value wins, like OpenSSH),
 * 3. defaults (port 22, the local user name, ~/.ssh/id_* keys when no key is
 *    configured anywhere, ~/.ssh/known_hosts, StrictHostKeyChecking yes).
 *
 * Identity files are not replaced but ordered: inventory keys first, then
 * ssh_config IdentityFile entries. Jump hosts are resolved through ssh_config
 * in the same way (their own ProxyJump is ignored); they try their ssh_config
 * keys first, then the host's inventory keys.
 */
export function resolveSshTarget(host: HostSpec, config: SshConfig | SshConfigLookup | undefined, env: ResolveEnv = {}): ResolvedSshTarget {
  const full = {
    home: env.home ?? os.homedir(),
    localUser: env.localUser ?? safeUserName(),
    exists: env.exists ?? ((f: string) => fs.existsSync(f)),
    environ: env.environ ?? process.env,
    ...(env.settings ? { settings: env.settings } : {}),
  };
  const lookup = config === undefined ? undefined : typeof config === 'function' ? config : builtinLookup(config);
  const given: { port?: number; user?: string; identity?: string[] } = {};
  if (host.port !== undefined) given.port = host.port;
  if (host.user !== undefined) given.user = host.user;
  if (host.identity !== undefined) given.identity = host.identity;
  const main = resolveOne(host.address, given, lookup, full, 'inventory');
  // the inventory's proxy_jump / proxy_command is obtained before ssh_config's, like ssh's command line (-J, -o ProxyCommand=)
  let jumpValue: string | undefined = main.proxyJump;
  let commandValue: string | undefined = main.proxyCommandRaw;
  if (host.proxyJump !== undefined || host.proxyCommand !== undefined) {
    jumpValue = host.proxyJump;
    commandValue = host.proxyCommand;
    delete main.origins.proxyJump;
    delete main.origins.proxyCommand;
    if (host.proxyJump !== undefined) main.origins.proxyJump = 'inventory';
    if (host.proxyCommand !== undefined) main.origins.proxyCommand = 'inventory';
  }
  const jumps = parseProxyJump(jumpValue).map((j, i) => {
    const g: { port?: number; user?: string } = {};
    if (j.port !== undefined) g.port = j.port;
    if (j.user !== undefined) g.user = j.user;
    const r = resolveOne(j.host, g, lookup, full, 'ProxyJump', host.identity ?? []);
    // the first hop is reached the way its own config says (its ProxyCommand, like `ssh -W` would);
    // later hops go through the ones before them (OpenSSH's -J on the command line wins there)
    const raw = i === 0 ? r.proxyCommandRaw : undefined;
    const { proxyJump: _j, proxyCommandRaw: _c, ...hop } = r;
    void _j;
    void _c;
    if (raw !== undefined && raw.toLowerCase() !== 'none') hop.proxyCommand = expandProxyCommand(raw, hop, hop.origins.proxyCommand ?? 'ssh_config');
    else delete hop.origins.proxyCommand;
    return hop as SshTarget;
  });
  const { proxyJump: _unused, proxyCommandRaw: _raw, ...rest } = main;
  void _unused;
  void _raw;
  if (commandValue !== undefined && commandValue.toLowerCase() !== 'none' && jumps.length === 0) {
    rest.proxyCommand = expandProxyCommand(commandValue, rest, rest.origins.proxyCommand ?? 'ssh_config');
  }
  return { ...rest, name: host.name, jumps };
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

/** file:line of every `keyword` line in the config and its includes, in any block (for messages). */
export function directiveLocations(config: SshConfig, keyword: string): string[] {
  const out: string[] = [];
  const walk = (file: SshConfigFile): void => {
    for (const section of file.sections) {
      for (const item of section.items) {
        if (item.kind === 'include') item.files.forEach(walk);
        else if (item.keyword === keyword) out.push(`${item.file}:${item.line}`);
      }
    }
  };
  walk(config.root);
  return out;
}
