import type { SourceLocation } from '../../core/errors.ts';
import { setOwn } from '../plain-map.ts';
import { expandHostPattern } from './host-pattern.ts';
import { iniValue, splitWords } from './ini-words.ts';
import { addGroupVars, addHost, emptySource, emptyVars, groupOf, type AnsibleSource, type LocatedVars } from './model.ts';
import { didYouMean } from '../suggest.ts';

/** 'skip': the lines after a section header that could not be read. */
type SectionKind = 'hosts' | 'vars' | 'children' | 'skip';

interface Section {
  /** undefined before the first [section]: those hosts are ungrouped. */
  group?: string;
  kind: SectionKind;
  location: SourceLocation;
}

/**
 * Read an Ansible INI inventory: [group] host lines with key=value vars and
 * ranges, [group:vars] key=value lines, [group:children] group names,
 * comments starting with # or ;. Every problem has its line.
 */
export function parseIni(text: string, file: string): AnsibleSource {
  const src = emptySource(file);
  const at = (line: number, column = 1): SourceLocation => ({ file, line, column });
  const problem = (location: SourceLocation, message: string, fix: string) => src.problems.push({ location, message, fix });
  const varsSections: Section[] = [];
  let section: Section = { kind: 'hosts', location: at(1) };

  text.split(/\r?\n/).forEach((raw, index) => {
    const n = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const indent = raw.length - raw.trimStart().length;
    if (line.startsWith('[')) {
      const next = readSection(line, at(n, indent + 1), problem);
      section = next ?? { kind: 'skip', location: at(n, indent + 1) };
      if (!next) return;
      if (next.kind === 'vars') varsSections.push(next);
      else declare(src, next.group!, next.location);
      return;
    }
    if (section.kind === 'hosts') readHostLine(src, raw, n, section.group, problem);
    else if (section.kind === 'vars') readVarLine(src, raw, n, section.group!, problem);
    else if (section.kind === 'children') readChildLine(src, raw, n, section.group!, problem);
  });

  for (const s of varsSections) {
    if (src.groups.get(s.group!)?.location) continue;
    problem(s.location, `[${s.group}:vars] sets vars of group '${s.group}', which no [${s.group}] or [${s.group}:children] section defines`, `${hintFor(s.group!, src)}add a [${s.group}] section with its hosts, or correct the group name`);
  }
  for (const g of src.groups.values()) {
    for (const child of g.children) {
      if (src.groups.get(child.name)?.location) continue;
      const isHost = src.hosts.has(child.name);
      problem(
        child.location,
        `'${child.name}' in [${g.name}:children] is not a group${isHost ? ` (it is a host)` : ''}: no [${child.name}] section defines it`,
        isHost ? `list the host under [${g.name}] instead, or make a group [${child.name}] for it` : `${hintFor(child.name, src)}add a [${child.name}] section, or list hosts under [${g.name}] instead`,
      );
    }
  }
  return src;
}

function hintFor(name: string, src: AnsibleSource): string {
  const hint = didYouMean(name, [...src.groups.values()].filter((g) => g.location).map((g) => g.name));
  return hint ? `${hint} ` : '';
}

function declare(src: AnsibleSource, name: string, location: SourceLocation): void {
  const g = groupOf(src, name);
  g.location ??= location;
}

type Report = (location: SourceLocation, message: string, fix: string) => void;

function readSection(line: string, location: SourceLocation, problem: Report): Section | undefined {
  const m = /^\[([^\]]*)\]\s*(?:[#;].*)?$/.exec(line);
  if (!m) {
    problem(location, `cannot read the section header '${line}'`, 'write a section as [group], [group:vars] or [group:children] alone on its line');
    return undefined;
  }
  const [name, kind, ...rest] = m[1]!.trim().split(':');
  if (!name || /\s/.test(name) || rest.length > 0) {
    problem(location, `'[${m[1]}]' is not a group section`, 'write [group], [group:vars] or [group:children]; a group name has no spaces or colons');
    return undefined;
  }
  if (kind === undefined) return { group: name, kind: 'hosts', location };
  if (kind === 'vars' || kind === 'children') return { group: name, kind, location };
  const hint = didYouMean(kind, ['vars', 'children']);
  problem(location, `section [${m[1]}] has an unknown type ':${kind}'`, `${hint ? `${hint} ` : ''}the types are [${name}:vars] and [${name}:children]`);
  return undefined;
}

function readHostLine(src: AnsibleSource, raw: string, n: number, group: string | undefined, problem: Report): void {
  const at = (column: number): SourceLocation => ({ file: src.file, line: n, column });
  const words = splitWords(raw);
  if (typeof words === 'string') return problem(at(1), `cannot read the host line: ${words}`, 'close the quote, or escape it with a backslash');
  const [first, ...rest] = words;
  if (!first) return;
  const vars: LocatedVars = emptyVars();
  const bad = rest.filter((w) => w.text.indexOf('=') <= 0);
  if (bad.length > 0) {
    const words = bad.map((w) => `'${w.text}'`).join(', ');
    problem(at(bad[0]!.column), `cannot read ${words} on the line of host '${first.text}': expected key=value`, `write host vars as key=value (no spaces around =), e.g. ${first.text} ansible_host=10.0.0.5; put each host on its own line`);
  }
  for (const w of rest) {
    const eq = w.text.indexOf('=');
    if (eq <= 0) continue;
    const key = w.text.slice(0, eq);
    setOwn(vars.vars, key, iniValue(w.text.slice(eq + 1)));
    vars.locations.set(key, at(w.column));
  }
  const pattern = expandHostPattern(first.text);
  if (!pattern.ok) return problem(at(first.column), pattern.message, pattern.fix);
  if (bad.length > 0) return;
  if (pattern.port !== undefined && vars.vars['ansible_port'] === undefined) {
    vars.vars['ansible_port'] = pattern.port;
    vars.locations.set('ansible_port', at(first.column));
  }
  for (const name of pattern.names) addHost(src, name, at(first.column), vars, group);
}

function readVarLine(src: AnsibleSource, raw: string, n: number, group: string, problem: Report): void {
  const line = raw.trim();
  const column = raw.length - raw.trimStart().length + 1;
  const eq = line.indexOf('=');
  const key = eq < 0 ? '' : line.slice(0, eq).trim();
  if (eq <= 0 || /\s/.test(key)) {
    problem({ file: src.file, line: n, column }, `cannot read '${line}' in [${group}:vars]: expected key=value`, `write one variable a line, e.g. ntp_server=pool.ntp.org; hosts go under [${group}]`);
    return;
  }
  const vars = emptyVars();
  setOwn(vars.vars, key, iniValue(line.slice(eq + 1)));
  vars.locations.set(key, { file: src.file, line: n, column });
  addGroupVars(groupOf(src, group), vars);
}

function readChildLine(src: AnsibleSource, raw: string, n: number, group: string, problem: Report): void {
  const line = raw.trim();
  const location = { file: src.file, line: n, column: raw.length - raw.trimStart().length + 1 };
  const words = splitWords(line);
  if (typeof words === 'string' || words.length !== 1) {
    problem(location, `cannot read '${line}' in [${group}:children]: expected one group name`, `list one child group a line; host vars go on host lines under [${group}] or a [child] section`);
    return;
  }
  const name = words[0]!.text;
  const parent = groupOf(src, group);
  if (!parent.children.some((c) => c.name === name)) parent.children.push({ name, location });
  groupOf(src, name);
}

