// Built-in role `dns`: a local caching resolver (Unbound) that forwards the
// Consul domain to the local Consul agent, checked before it is used, then
// /etc/resolv.conf switched to it with an automatic rollback, and DHCP clients
// kept from rewriting it. Vars and behaviour: docs/roles-host.md.
import { isIP } from 'node:net';
import {
  DNS_NAME,
  MAX_NAMESERVERS,
  boolean,
  change,
  checkVars,
  checkedFile,
  command,
  defineRole,
  directory,
  dnsCheck,
  dnsQueryCommand,
  fail,
  file,
  isStringList,
  line,
  nameserverProblems,
  noop,
  oneOf,
  packages,
  packagesAvailable,
  parseSections,
  port,
  probeOf,
  readQueryOutput,
  renderResolvConf,
  resolvConf,
  section,
  service,
  sh,
  whenExists,
  withoutTerminal,
  type Facts,
  type Operation,
  type Plan,
  type VarProblem,
  type Vars,
} from 'cairn-provision';

export const DEFAULTS = {
  /** The resolver. Only unbound (by package) is supported. */
  dns_resolver: 'unbound',
  /** Addresses Unbound listens on. */
  dns_listen: ['127.0.0.1'],
  dns_port: 53,
  /** Upstream servers for every other name; empty: Unbound resolves from the root servers itself. */
  dns_forwarders: [] as string[],
  /** Consul's DNS: `<dns_consul_domain>.` is forwarded to dns_consul_address@dns_consul_port. */
  dns_consul_domain: 'consul',
  dns_consul_address: '127.0.0.1',
  dns_consul_port: 8600,
  /** A name Unbound answers from its own data, to check it answers (no internet needed). */
  dns_check_name: 'cairn-check.internal',
  dns_check_address: '127.0.0.254',
  /** Also require this external name to resolve before the switch (e.g. example.com); empty: not checked. */
  dns_check_external: '',
  /** /etc/resolv.conf: at most 3 nameservers (musl, glibc and Go read no more). */
  dns_nameservers: ['127.0.0.1'],
  dns_search: [] as string[],
  dns_options: [] as string[],
  /** Before the switch, every nameserver of dns_nameservers must answer (false: skip that, e.g. to test the rollback). */
  dns_verify_before_switch: true,
  /** The previous resolv.conf comes back after this many seconds unless cairn confirmed the switch. */
  dns_rollback_seconds: 30,
  /** Keep DHCP clients (udhcpc, dhcpcd, dhclient, NetworkManager) from rewriting resolv.conf. */
  dns_stop_dhcp_overwrite: true,
};

/** The vars of the role, as validate() leaves them. */
export type DnsVars = typeof DEFAULTS;

const UNBOUND_DROPIN = '/etc/unbound/unbound.conf.d/cairn.conf';
const UNBOUND_MAIN = '/etc/unbound/unbound.conf';
const STATE_DIR = '/var/lib/cairn/dns';
const ROOT_KEY = '/var/lib/unbound/root.key';
/** The root zone's key-signing key KSK-2017 as a DS record (IANA root-anchors.xml). */
const ROOT_DS = '. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D';

const ipList = (name: string, v: unknown, opts: { min?: number } = {}): VarProblem[] => {
  if (!isStringList(v)) return [{ var: name, message: `must be a list of IP addresses, got ${JSON.stringify(v)}`, fix: `e.g. ${name}: ['127.0.0.1']` }];
  const out: VarProblem[] = [];
  if (v.length < (opts.min ?? 0)) out.push({ var: name, message: 'must not be empty', fix: `e.g. ${name}: ['127.0.0.1']` });
  const bad = v.filter((a) => isIP(a) === 0);
  if (bad.length) out.push({ var: name, message: `has entries that are not IP addresses: ${bad.join(', ')}`, fix: `e.g. ${name}: ['127.0.0.1']` });
  return out;
};

export function dnsVarProblems(vars: Vars): VarProblem[] {
  const out: VarProblem[] = [];
  out.push(...oneOf('dns_resolver', vars.dns_resolver, ['unbound']));
  out.push(...ipList('dns_listen', vars.dns_listen, { min: 1 }));
  out.push(...port('dns_port', vars.dns_port));
  out.push(...ipList('dns_forwarders', vars.dns_forwarders));
  if (typeof vars.dns_consul_domain !== 'string' || !DNS_NAME.test(vars.dns_consul_domain)) out.push({ var: 'dns_consul_domain', message: `must be a domain, got ${JSON.stringify(vars.dns_consul_domain)}`, fix: 'e.g. dns_consul_domain: consul' });
  if (typeof vars.dns_consul_address !== 'string' || isIP(vars.dns_consul_address) === 0) out.push({ var: 'dns_consul_address', message: `must be an IP address, got ${JSON.stringify(vars.dns_consul_address)}`, fix: 'e.g. dns_consul_address: 127.0.0.1' });
  out.push(...port('dns_consul_port', vars.dns_consul_port));
  if (typeof vars.dns_check_name !== 'string' || !DNS_NAME.test(vars.dns_check_name)) out.push({ var: 'dns_check_name', message: `must be a DNS name, got ${JSON.stringify(vars.dns_check_name)}`, fix: 'e.g. dns_check_name: cairn-check.internal' });
  else if (/\.local\.?$/i.test(vars.dns_check_name)) out.push({ var: 'dns_check_name', message: 'ends in .local, which mDNS (nss-mdns on Raspberry Pi OS) answers before DNS', fix: 'use a name under .internal, e.g. cairn-check.internal' });
  if (typeof vars.dns_check_address !== 'string' || isIP(vars.dns_check_address) !== 4) out.push({ var: 'dns_check_address', message: `must be an IPv4 address, got ${JSON.stringify(vars.dns_check_address)}`, fix: 'e.g. dns_check_address: 127.0.0.254 (never contacted, only compared)' });
  if (typeof vars.dns_check_external !== 'string' || (vars.dns_check_external !== '' && !DNS_NAME.test(vars.dns_check_external))) out.push({ var: 'dns_check_external', message: `must be a DNS name or '', got ${JSON.stringify(vars.dns_check_external)}`, fix: "e.g. dns_check_external: example.com, or '' where the host has no internet" });
  for (const p of nameserverProblems(vars.dns_nameservers)) out.push({ var: 'dns_nameservers', message: p, fix: `list 1 to ${MAX_NAMESERVERS} addresses, the local resolver first (e.g. ['127.0.0.1'])` });
  if (!isStringList(vars.dns_search) || vars.dns_search.some((d) => !DNS_NAME.test(d)) || vars.dns_search.length > 6) out.push({ var: 'dns_search', message: `must be a list of at most 6 domains, got ${JSON.stringify(vars.dns_search)}`, fix: "e.g. dns_search: ['lan']" });
  if (!isStringList(vars.dns_options) || vars.dns_options.some((o) => !/^[a-z][a-z0-9-]*(:\d+)?$/.test(o))) out.push({ var: 'dns_options', message: `must be a list of resolver options, got ${JSON.stringify(vars.dns_options)}`, fix: "e.g. dns_options: ['timeout:2', 'attempts:2']" });
  out.push(...boolean('dns_verify_before_switch', vars.dns_verify_before_switch));
  const rollback = vars.dns_rollback_seconds;
  if (typeof rollback !== 'number' || !Number.isInteger(rollback) || rollback < 5 || rollback > 3600) {
    out.push({ var: 'dns_rollback_seconds', message: `must be an integer from 5 to 3600, got ${JSON.stringify(vars.dns_rollback_seconds)}`, fix: 'e.g. dns_rollback_seconds: 30' });
  }
  out.push(...boolean('dns_stop_dhcp_overwrite', vars.dns_stop_dhcp_overwrite));
  return out;
}

/** `address@port` as Unbound writes it. */
const at = (address: string, p: number) => (p === 53 ? address : `${address}@${p}`);

/** The Unbound configuration (pure). `main`: a whole unbound.conf (Alpine), else a conf.d drop-in (Debian). */
export function unboundConfig(vars: DnsVars, opts: { main: boolean }): string {
  const domain = vars.dns_consul_domain.replace(/\.$/, '');
  const listen = vars.dns_listen;
  const forwarders = vars.dns_forwarders;
  const lines = [
    '# managed by cairn (dns role): changes are overwritten',
    'server:',
    ...listen.map((a) => `    interface: ${a}`),
    `    port: ${vars.dns_port}`,
    ...(opts.main ? ['    # Alpine: a whole unbound.conf', '    username: "unbound"', '    directory: "/etc/unbound"', '    chroot: ""', '    pidfile: "/run/unbound.pid"'] : []),
    '    # Consul answers on localhost: Unbound refuses to query localhost by default',
    '    do-not-query-localhost: no',
    `    # .${domain} is not signed: no DNSSEC validation for it`,
    `    domain-insecure: "${domain}."`,
    '    # a Consul that was down (not started yet) is asked again soon, not after infra-host-ttl',
    '    infra-keep-probing: yes',
    '    # answered from here, to check that the resolver answers (no internet needed)',
    `    local-data: "${vars.dns_check_name.replace(/\.$/, '')}. 60 IN A ${vars.dns_check_address}"`,
    '',
    'forward-zone:',
    `    name: "${domain}."`,
    `    forward-addr: ${at(vars.dns_consul_address, vars.dns_consul_port)}`,
  ];
  if (forwarders.length) lines.push('', 'forward-zone:', '    name: "."', ...forwarders.map((f) => `    forward-addr: ${f}`));
  return `${lines.join('\n')}\n`;
}

/**
 * Restart Unbound when its configuration changed since cairn last (re)started it:
 * the hash of every config file against a stamp written after each restart. A
 * handler would come too late (handlers run at the end of the role, after the
 * resolv.conf switch this restart must precede).
 */
function restartOnChange(alpine: boolean, init: Facts['init']): Operation {
  const stamp = `${STATE_DIR}/unbound.conf.sha256`;
  // every file unbound reads (Debian: the main file and the conf.d drop-ins, a glob the host expands)
  const hash = alpine
    ? sh`cat /etc/unbound/unbound.conf 2>/dev/null | sha256sum | cut -c1-64`
    : sh`cat /etc/unbound/unbound.conf /etc/unbound/unbound.conf.d/*.conf 2>/dev/null | sha256sum | cut -c1-64`;
  const restart = init === 'systemd' ? sh`systemctl restart unbound` : sh`rc-service unbound restart`;
  return {
    kind: 'restartOnChange',
    id: 'restart',
    barrier: true,
    probe: (ctx) => (ctx.bake ? undefined : probeOf(section('hash', hash), sh`if [ -f ${stamp} ]; then ${section('stamp', sh`cat ${stamp}`)}
fi`)),
    plan(probe, ctx): Plan {
      if (ctx.bake) return noop('bake mode: unbound starts with the written configuration at boot');
      const s = parseSections(probe?.stdout ?? '');
      const now = s.get('hash')?.trim();
      if (!now) return fail(`cannot hash the unbound configuration: ${probe?.stderr.trim() ?? 'no probe'}`);
      if (s.get('stamp')?.trim() === now) return noop('unbound runs the current configuration');
      return change(`restart unbound: its configuration changed${s.has('stamp') ? '' : ' (or was never applied by cairn)'}`, [
        withoutTerminal(restart),
        sh`mkdir -p ${STATE_DIR} && printf '%s\\n' "$(${hash})" > ${stamp}`,
      ]);
    },
  };
}

/** `unbound-checkconf` on the whole configuration (every drop-in together), before any (re)start. */
function checkconf(): Operation {
  return {
    kind: 'unboundCheckconf',
    id: 'checkconf',
    barrier: true,
    probe: () => sh`if command -v unbound-checkconf >/dev/null 2>&1; then out=$(unbound-checkconf 2>&1); rc=$?; ${section('out', sh`printf '%s\\n' "$out"`)}
${section('exit', sh`echo "$rc"`)}
fi`,
    plan(probe): Plan {
      const s = parseSections(probe?.stdout ?? '');
      if (!s.has('exit')) return noop('not checked yet: unbound-checkconf is not installed (an earlier step installs unbound)');
      const out = (s.get('out') ?? '').trim();
      if (s.get('exit')?.trim() === '0') return noop(out || 'unbound-checkconf: no errors');
      return fail(`unbound-checkconf rejects the configuration (unbound was not restarted):\n${out}`);
    },
  };
}

/**
 * The Consul forward: Unbound lists `<domain>.` among its forwards (unbound-control,
 * where remote control is enabled), and when something answers DNS on the Consul
 * port, a name under the domain resolves THROUGH Unbound.
 */
function consulForward(vars: DnsVars, listen: string, listenPort: number): Operation {
  const domain = vars.dns_consul_domain.replace(/\.$/, '');
  const consulAddr = vars.dns_consul_address;
  const consulPort = vars.dns_consul_port;
  const name = `consul.service.${domain}`;
  return {
    kind: 'dnsForward',
    id: 'consul-forward',
    barrier: true,
    probe: (ctx) =>
      ctx.bake
        ? undefined
        : probeOf(
            sh`if ! command -v unbound >/dev/null 2>&1; then ${section('absent', sh`echo yes`)}
exit 0; fi`,
            sh`out=$(unbound-control list_forwards 2>&1) && ${section('forwards', sh`printf '%s\\n' "$out"`)}`,
            sh`direct=$(${dnsQueryCommand(consulAddr, consulPort, name, 'A', 2)})`,
            sh`printf '%s\\n' "$direct" | sed 's/^@@cairn:/@@cairn:direct-/'`,
            sh`via=$(${dnsQueryCommand(listen, listenPort, name, 'A', 4)})`,
            sh`printf '%s\\n' "$via" | sed 's/^@@cairn:/@@cairn:via-/'`,
            sh`exit 0`,
          ),
    plan(probe, ctx): Plan {
      const where = at(consulAddr, consulPort);
      if (ctx.bake) return noop(`bake mode: forward of ${domain}. to ${where} not queried`);
      const s = parseSections(probe?.stdout ?? '');
      if (s.has('absent')) return noop('not checked yet: unbound is not installed');
      const prefixed = (p: string) => new Map([...s].filter(([k]) => k.startsWith(p)).map(([k, val]) => [k.slice(p.length), val]));
      const forwards = s.get('forwards');
      const listed = forwards === undefined ? undefined : forwards.split('\n').some((l) => l.startsWith(`${domain}. `) && l.includes(consulAddr));
      if (listed === false) return fail(`unbound does not forward ${domain}. to ${consulAddr} (unbound-control list_forwards: ${forwards?.trim() || 'none'})`);
      const how = listed ? 'unbound-control list_forwards shows it' : 'configured (unbound-control not available to list it)';
      const direct = readQueryOutput(prefixed('direct-'));
      if (direct.kind !== 'reply') return noop(`${domain}. is forwarded to ${where} (${how}); nothing answers DNS on ${where} yet (Consul not running), so ${name} was not asked`);
      const via = readQueryOutput(prefixed('via-'));
      const viaAnswer = via.kind === 'reply' ? via.response : undefined;
      const records = viaAnswer?.answers.filter((a) => a.type === 1).map((a) => a.data) ?? [];
      if (viaAnswer && viaAnswer.rcode === 'NOERROR' && records.length) return noop(`${name} resolves through unbound (${at(listen, listenPort)} -> ${where}): ${records.join(', ')}`);
      const directRecords = direct.response.answers.filter((a) => a.type === 1).map((a) => a.data);
      if (direct.response.rcode !== 'NOERROR' || directRecords.length === 0) {
        return noop(`${domain}. is forwarded to ${where} (${how}); ${where} answers but has no ${name} record (${direct.response.rcode}), so the path was not proven`);
      }
      // Unbound marks a forwarder that did not answer (Consul not started yet) as down
      // for a while: forget that, then the name must resolve through it
      const seen = viaAnswer ? `${viaAnswer.rcode}, ${records.length} records` : via.kind === 'reply' ? '' : via.detail;
      const verify = dnsQueryCommand(listen, listenPort, name, 'A', 4);
      return change(`flush unbound's infra cache: ${where} answers ${name} but unbound does not (${seen}); it had marked Consul's DNS as down`, [
        // the request list too: a new query would join a pending one still waiting on the old timeout
        // `flush_infra all`: flush_infra with an address only matches port 53 entries
        sh`unbound-control flush_infra all >/dev/null && unbound-control flush_requestlist >/dev/null && unbound-control flush_zone ${`${domain}.`} >/dev/null`,
        sh`out=$(${verify}); case "$out" in *@@cairn:raw*) ;; *) echo ${`unbound still does not answer ${name}:`} "$out" >&2; exit 1 ;; esac
h=$(printf '%s\n' "$out" | awk 'p { print; exit } /^@@cairn:raw$/ { p = 1 }'); set -- $h
case "$4" in ?0) [ "$7$8" != 0000 ] || { echo ${`unbound answers ${name} with no record after the flush: check do-not-query-localhost: no and domain-insecure: "${domain}."`} >&2; exit 1; } ;; *) echo ${`unbound still fails ${name} after the flush: check do-not-query-localhost: no and domain-insecure: "${domain}."`} >&2; exit 1 ;; esac`,
      ]);
    },
  };
}

export default defineRole({
  name: 'dns',
  description: 'local Unbound resolver (Consul domain forwarded), checked, then resolv.conf switched with automatic rollback',
  defaults: DEFAULTS,
  validate: (ctx) => checkVars('dns', ctx, (vars) => dnsVarProblems(vars)),
  steps(ctx) {
    const v = ctx.vars;
    const f = ctx.facts;
    const alpine = f.os.family === 'alpine';
    const listen = v.dns_listen;
    const dnsPort = v.dns_port;
    const checkName = v.dns_check_name;
    const checkAddress = v.dns_check_address;
    const nameservers = v.dns_nameservers;
    const steps: Operation[] = [];

    const hint = alpine
      ? "Alpine ships unbound in its main repository (add .../main to /etc/apk/repositories or mirror the package); cairn's offline Alpine test repository has none, and the dns role has no other resolver for Alpine yet"
      : 'Debian ships unbound in main; check /etc/apt/sources.list and run apt-get update';
    steps.push(packagesAvailable({ id: 'available', names: ['unbound'], hint }), packages({ id: 'packages', names: ['unbound'], state: 'present', update: true }));

    const configPath = alpine ? UNBOUND_MAIN : UNBOUND_DROPIN;
    if (!alpine) {
      steps.push(
        directory({ id: 'conf-d', path: '/etc/unbound/unbound.conf.d', mode: '0755' }),
        // Debian's unbound validates DNSSEC with /var/lib/unbound/root.key, copied from
        // dns-root-data (a Recommends that --no-install-recommends leaves out): without
        // it unbound does not start. Seed it with the root KSK-2017 DS once; unbound
        // keeps it current itself (RFC 5011).
        command({
          id: 'trust-anchor',
          creates: ROOT_KEY,
          run: sh`if [ -f /usr/share/dns/root.key ]; then cp /usr/share/dns/root.key ${ROOT_KEY}; else printf '%s\n' ${ROOT_DS} > ${ROOT_KEY}; fi && chown unbound:unbound ${ROOT_KEY} && chmod 0644 ${ROOT_KEY}`,
        }),
      );
    }
    steps.push(
      checkedFile({ id: 'config', path: configPath, mode: '0644', content: unboundConfig(v, { main: alpine }), validate: (tmp) => sh`unbound-checkconf ${tmp}` }),
      checkconf(),
      service({ id: 'service', name: 'unbound', enabled: true, state: 'started' }),
      restartOnChange(alpine, f.init),
    );
    const answering = listen.map((a) =>
      dnsCheck({ id: `answers-${a}`, server: a, port: dnsPort, name: checkName, expect: checkAddress, waitSeconds: 20, onlyIf: '/usr/sbin/unbound', label: 'unbound' }),
    );
    steps.push(...answering);
    const external = v.dns_check_external;
    if (external) steps.push(dnsCheck({ id: 'answers-external', server: listen[0]!, port: dnsPort, name: external, waitSeconds: 20, onlyIf: '/usr/sbin/unbound', label: 'unbound' }));
    steps.push(consulForward(v, listen[0]!, dnsPort));

    if (v.dns_verify_before_switch === true) {
      for (const ns of nameservers) {
        if (dnsPort === 53 && listen.includes(ns)) continue; // asked above, on the same address and port
        const local = listen.includes(ns);
        steps.push(
          dnsCheck({
            id: `nameserver-${ns}`,
            server: ns,
            name: checkName,
            ...(local ? { expect: checkAddress } : { want: 'reply' as const }),
            waitSeconds: 5,
            label: `nameserver ${ns} (for resolv.conf, port 53)`,
          }),
        );
      }
    }

    if (v.dns_stop_dhcp_overwrite === true) {
      if (alpine) {
        steps.push(
          directory({ id: 'udhcpc-dir', path: '/etc/udhcpc', mode: '0755' }),
          // replaces an active RESOLV_CONF= line, else the commented-out RESOLV_CONF="no" example
          line({ id: 'udhcpc', path: '/etc/udhcpc/udhcpc.conf', line: 'RESOLV_CONF="no"', regexp: '^\\s*RESOLV_CONF=|^\\s*#\\s*RESOLV_CONF="?no"?\\s*$', create: true }),
        );
      } else {
        steps.push(
          whenExists(
            '/etc/dhcp/dhclient-enter-hooks.d',
            file({
              id: 'dhclient',
              path: '/etc/dhcp/dhclient-enter-hooks.d/zz-cairn-keep-resolv-conf',
              mode: '0644',
              content: '# managed by cairn (dns role): resolv.conf points at the local resolver; dhclient must not rewrite it\nmake_resolv_conf() { :; }\n',
            }),
            'dhclient is not installed',
          ),
          whenExists(
            '/etc/NetworkManager/conf.d',
            file({
              id: 'networkmanager',
              path: '/etc/NetworkManager/conf.d/90-cairn-dns.conf',
              mode: '0644',
              content: '# managed by cairn (dns role): resolv.conf points at the local resolver\n[main]\ndns=none\n',
              notify: ['reload NetworkManager'],
            }),
            'NetworkManager is not installed',
          ),
        );
      }
      steps.push(whenExists('/etc/dhcpcd.conf', line({ id: 'dhcpcd', path: '/etc/dhcpcd.conf', line: 'nohook resolv.conf', regexp: '^\\s*nohook\\s+resolv\\.conf\\s*$' }), 'dhcpcd is not installed'));
    }

    const search = v.dns_search;
    const options = v.dns_options;
    steps.push(
      ctx.bake
        ? file({ id: 'resolv-conf', path: '/etc/resolv.conf', mode: '0644', content: renderResolvConf({ nameservers, search, options }) })
        : resolvConf({
            id: 'resolv-conf',
            nameservers,
            search,
            options,
            rollbackSeconds: v.dns_rollback_seconds,
            stateDir: `${STATE_DIR}/resolv-conf`,
            verify: { name: checkName, address: checkAddress },
          }),
    );
    return steps;
  },
  handlers: () => ({
    // a reload (SIGHUP) rereads conf.d without touching the connections
    'reload NetworkManager': [
      command({
        id: 'reload-networkmanager',
        run: sh`systemctl reload NetworkManager`,
        unless: sh`! systemctl is-active --quiet NetworkManager`,
      }),
    ],
  }),
});
