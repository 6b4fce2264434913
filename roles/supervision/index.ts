// Built-in role `supervision`: run your own daemons the way cairn runs Nomad
// and Consul: one description each, rendered for OpenRC (supervise-daemon),
// s6 or systemd (chosen from the host's facts and cairn_supervisor).
//
//   supervision_services:
//     - name: exporter
//       command: /usr/local/bin/node_exporter
//       args: ['--web.listen-address=:9100']
//       user: nobody
//
// Fields: docs/roles-nomad-consul.md#supervision
import { defineRole, describeProblems, isMap, supervisedService, supervisionVarProblems, type InputProblem, type Operation, type ServiceDescription } from 'cairn-provision';

const FIELDS = ['name', 'description', 'command', 'args', 'user', 'group', 'logDir', 'nofile', 'killSignal', 'needs', 'after', 'env', 'restartDelay', 'notify', 'configFiles'];

/** The vars the steps read, as validate() leaves them: every entry a valid description. */
type SupervisionVars = { readonly supervision_services: readonly ServiceDescription[] };

export default defineRole<SupervisionVars>({
  name: 'supervision',
  description: 'Your own daemons under OpenRC, s6 or systemd, from one description each',
  defaults: { supervision_services: [] },
  validate(ctx) {
    const problems: InputProblem[] = [];
    const seen = new Set<string>();
    for (const host of ctx.hostsWithRole) {
      const vars = ctx.varsFor(host);
      const add = (name: string, message: string, fix: string) => {
        const location = ctx.locate(host, name);
        const k = `${location.file}:${location.line}:${message}`;
        if (!seen.has(k)) {
          seen.add(k);
          problems.push({ location, message, fix });
        }
      };
      for (const s of supervisionVarProblems(vars)) add(s.name, s.message, s.fix);
      const raw = vars.supervision_services;
      if (!Array.isArray(raw)) {
        add('supervision_services', `supervision_services must be a list of service descriptions, got ${typeof raw}`, 'e.g. supervision_services: [{ name: exporter, command: /usr/local/bin/node_exporter }]');
        continue;
      }
      const names = new Set<string>();
      raw.forEach((entry, i) => {
        const at = `supervision_services`;
        if (!isMap(entry)) return add(at, `supervision_services[${i}] must be a map`, 'give name: and command:');
        const e = entry;
        for (const k of Object.keys(e)) if (!FIELDS.includes(k)) add(at, `supervision_services[${i}] (${String(e.name)}): unknown field '${k}'`, `fields are ${FIELDS.join(', ')}`);
        for (const p of describeProblems(e)) add(at, `supervision_services[${i}] (${String(e.name)}): ${p.split('; fix: ')[0]}`, p.split('; fix: ')[1] ?? '');
        if (typeof e.name === 'string') {
          if (names.has(e.name)) add(at, `supervision_services: '${e.name}' is described twice`, 'one entry per service name');
          names.add(e.name);
        }
      });
    }
    return problems;
  },
  steps(ctx) {
    return ctx.vars.supervision_services.flatMap((e) => supervisedService(ctx, e, { idPrefix: e.name }).steps);
  },
  handlers(ctx) {
    const out: Record<string, Operation[]> = {};
    for (const e of ctx.vars.supervision_services) Object.assign(out, supervisedService(ctx, e, { idPrefix: e.name }).handlers);
    return out;
  },
});
