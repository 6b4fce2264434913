import type { SourceLocation } from '../../core/errors.ts';
import { isPlainMap } from '../plain-map.ts';
import { didYouMean } from '../suggest.ts';
import type { YamlPath, YamlSource } from '../yaml-source.ts';
import { expandHostPattern } from './host-pattern.ts';
import { addGroupVars, addHost, emptySource, groupOf, type AnsibleSource, type LocatedVars } from './model.ts';
import { varsAt } from './vars-at.ts';
import { readYamlFile } from './yaml-file.ts';

const GROUP_KEYS = ['hosts', 'children', 'vars'];

/**
 * Read an Ansible YAML inventory: top-level groups (usually `all:`), each with
 * `hosts:` (name -> vars), `children:` (name -> group) and `vars:`.
 */
export function parseAnsibleYaml(text: string, file: string, env?: NodeJS.ProcessEnv): AnsibleSource {
  const src = emptySource(file);
  const yaml = readYamlFile(text, file, env);
  src.problems.push(...yaml.problems);
  if (yaml.data === undefined) return src;
  if (!isPlainMap(yaml.data)) {
    src.problems.push({ location: yaml.source.ofNode(undefined), message: 'an Ansible YAML inventory is a map of groups', fix: 'start with all:, then hosts:, children: and vars: under it' });
    return src;
  }
  const reader = new GroupReader(src, yaml.source);
  for (const [name, value] of Object.entries(yaml.data)) reader.group(name, value, [name]);
  return src;
}

class GroupReader {
  constructor(
    private readonly src: AnsibleSource,
    private readonly source: YamlSource,
  ) {}

  private problem(location: SourceLocation, message: string, fix: string): void {
    this.src.problems.push({ location, message, fix });
  }

  group(name: string, value: unknown, path: YamlPath): void {
    const g = groupOf(this.src, name);
    g.location ??= this.source.locate(path, 'key');
    if (value === null || value === undefined) return;
    if (!isPlainMap(value)) {
      this.problem(this.source.locate(path), `group '${name}' must be a map with hosts:, children: or vars:`, `write e.g.\n  ${name}:\n    hosts:\n      web1:`);
      return;
    }
    for (const key of Object.keys(value).filter((k) => !GROUP_KEYS.includes(k))) {
      const hint = didYouMean(key, GROUP_KEYS);
      this.problem(
        this.source.locate([...path, key], 'key'),
        `unknown key '${key}' in group '${name}'`,
        `${hint ? `${hint} ` : ''}a group has hosts:, children: and vars:; ${hint ? 'a variable goes under vars:' : `a child group goes under children: (children: { ${key}: ... })`}`,
      );
    }
    this.hosts(name, value['hosts'], [...path, 'hosts']);
    this.children(name, value['children'], [...path, 'children']);
    const vars = this.vars(value['vars'], [...path, 'vars'], `vars of group '${name}'`);
    if (vars) addGroupVars(g, vars);
  }

  private hosts(group: string, value: unknown, path: YamlPath): void {
    if (value === null || value === undefined) return;
    if (!isPlainMap(value)) {
      const list = Array.isArray(value) ? value.filter((h) => typeof h === 'string').slice(0, 2) : [];
      const example = (list.length ? list : ['web1', 'web2']).map((h) => `\n      ${String(h)}:`).join('');
      this.problem(this.source.locate(path), `hosts: of group '${group}' must be a map of host name -> vars${Array.isArray(value) ? ', not a list' : ''}`, `write each host as a key (an empty value is fine):\n    hosts:${example}`);
      return;
    }
    for (const [pattern, hostVars] of Object.entries(value)) {
      const location = this.source.locate([...path, pattern], 'key');
      const expanded = expandHostPattern(pattern);
      if (!expanded.ok) {
        this.problem(location, expanded.message, expanded.fix);
        continue;
      }
      const vars = this.vars(hostVars, [...path, pattern], `vars of host '${pattern}'`);
      if (!vars) continue;
      if (expanded.port !== undefined && vars.vars['ansible_port'] === undefined) {
        vars.vars['ansible_port'] = expanded.port;
        vars.locations.set('ansible_port', location);
      }
      for (const name of expanded.names) addHost(this.src, name, location, vars, group);
    }
  }

  private children(group: string, value: unknown, path: YamlPath): void {
    if (value === null || value === undefined) return;
    if (!isPlainMap(value)) {
      this.problem(this.source.locate(path), `children: of group '${group}' must be a map of group name -> group`, 'write each child group as a key:\n    children:\n      webservers:\n        hosts: ...');
      return;
    }
    const parent = groupOf(this.src, group);
    for (const [name, child] of Object.entries(value)) {
      if (!parent.children.some((c) => c.name === name)) parent.children.push({ name, location: this.source.locate([...path, name], 'key') });
      this.group(name, child, [...path, name]);
    }
  }

  /** A vars map (null is an empty one), or undefined after reporting that it is not a map. */
  private vars(value: unknown, path: YamlPath, what: string): LocatedVars | undefined {
    if (value !== null && value !== undefined && !isPlainMap(value)) {
      this.problem(this.source.locate(path), `${what} must be a map of name: value`, 'write e.g.\n  ntp_server: pool.ntp.org');
      return undefined;
    }
    return varsAt(this.source, path, value ?? {});
  }
}
