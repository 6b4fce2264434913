// Built-in role `recover-nomad-client`, run on demand (NOT idempotent: every
// apply recovers again): the procedure for a Nomad client whose state is
// corrupt ("remove alloc/ and client/" in its log). Stop the agent, stop the
// containers of its allocations, unmount what is mounted under
// <data_dir>/alloc (deepest first; docker and secret mounts keep it busy),
// move alloc/ and client/ aside (timestamped, nothing is deleted), start the
// agent, wait for health. Before all that, a node that runs allocations is drained
// (nomad_drain_deadline); the recovered client registers as a new, eligible node.
//
//   cairn apply -i inventory.yml --limit rpi3 -e 'recover=true'   (with the role in a group)
//
// Vars: nomad_data_dir, nomad_bin... as the nomad role (docs/roles-nomad-consul.md#recover-nomad-client)
import { command, defineRole, durationNs, failStep, nodeDrain, httpOk, isMap, localHttpBase, logTail, port, resolveSupervision, service, serviceTarget, sh, waitReady, type InputProblem, type Operation } from 'cairn-provision';

const DEFAULTS = {
  nomad_data_dir: '/var/lib/nomad',
  nomad_log_dir: '/var/log/nomad',
  nomad_bind_addr: '0.0.0.0',
  nomad_ports: { http: 4646, rpc: 4647, serf: 4648 },
  nomad_wait_timeout: 120,
  /** Drain the node (when it runs allocations) before the agent stops; a recovered client is a new, eligible node. */
  nomad_drain_before_restart: true,
  nomad_drain_deadline: '5m',
};

const ABS = /^\/[A-Za-z0-9_.\/+@-]+$/;

/** The vars the steps read, as validate() leaves them (nomad_ports: only http is read, 4646 when absent). */
type RecoverVars = Omit<typeof DEFAULTS, 'nomad_ports' | 'nomad_drain_deadline'> & { readonly nomad_ports: { readonly http?: number }; readonly nomad_drain_deadline: string };

export default defineRole<RecoverVars>({
  name: 'recover-nomad-client',
  description: 'On demand: reset a Nomad client whose alloc/ and client/ state is corrupt',
  defaults: DEFAULTS,
  validate(ctx) {
    return ctx.hostsWithRole.flatMap((host) => {
      const vars = ctx.varsFor(host);
      const problems: InputProblem[] = [];
      const at = (name: string, message: string, fix: string) => problems.push({ location: ctx.locate(host, name), message, fix });
      const d = vars.nomad_data_dir;
      if (!(typeof d === 'string' && ABS.test(d) && d !== '/')) at('nomad_data_dir', `nomad_data_dir must be an absolute path other than /, got ${JSON.stringify(d)}`, 'e.g. nomad_data_dir: /var/lib/nomad');
      const logDir = vars.nomad_log_dir;
      if (typeof logDir !== 'string' || !ABS.test(logDir)) at('nomad_log_dir', `nomad_log_dir must be an absolute path, got ${JSON.stringify(logDir)}`, 'e.g. nomad_log_dir: /var/log/nomad');
      if (typeof vars.nomad_bind_addr !== 'string') at('nomad_bind_addr', `nomad_bind_addr must be an address, got ${JSON.stringify(vars.nomad_bind_addr)}`, 'e.g. nomad_bind_addr: 0.0.0.0');
      const ports = vars.nomad_ports;
      if (!isMap(ports)) at('nomad_ports', `nomad_ports must be a map, got ${JSON.stringify(ports)}`, 'e.g. nomad_ports: { http: 4646 }');
      else if (ports.http !== undefined && port('nomad_ports.http', ports.http).length) at('nomad_ports.http', `nomad_ports.http must be a port number 1-65535, got ${JSON.stringify(ports.http)}`, 'a whole number');
      const t = vars.nomad_wait_timeout;
      if (typeof t !== 'number' || !Number.isInteger(t) || t < 1) at('nomad_wait_timeout', `nomad_wait_timeout must be whole seconds >= 1, got ${JSON.stringify(t)}`, 'e.g. nomad_wait_timeout: 120');
      if (typeof vars.nomad_drain_before_restart !== 'boolean') at('nomad_drain_before_restart', `nomad_drain_before_restart must be true or false, got ${JSON.stringify(vars.nomad_drain_before_restart)}`, 'write nomad_drain_before_restart: true');
      if (durationNs(vars.nomad_drain_deadline) === undefined) at('nomad_drain_deadline', `nomad_drain_deadline must be a duration > 0 such as 5m, 90s or 1h30m, got ${JSON.stringify(vars.nomad_drain_deadline)}`, "e.g. nomad_drain_deadline: '5m'");
      return problems;
    });
  },
  steps(ctx) {
    const v = ctx.vars;
    const dataDir = v.nomad_data_dir.replace(/\/+$/, '');
    const alloc = `${dataDir}/alloc`;
    const sup = resolveSupervision('nomad', v, ctx.facts);
    if ('error' in sup) return [failStep('stop-agent', 'service', `nomad: ${sup.error}`)];
    const target = serviceTarget('nomad', sup);
    const base = localHttpBase(v.nomad_bind_addr, v.nomad_ports.http ?? 4646);
    const drain = nodeDrain({
      id: 'drain-before-recovery',
      base,
      deadlineNs: durationNs(v.nomad_drain_deadline) ?? 300e9,
      enabled: v.nomad_drain_before_restart !== false,
      message: `cairn: recover-nomad-client on ${ctx.host.name}`,
    });
    const steps: Operation[] = [
      drain.drain,
      service({ id: 'stop-agent', ...target, enabled: true, state: 'stopped' }),
      command({
        id: 'stop-alloc-containers',
        notIdempotent: true,
        run: sh`if command -v docker >/dev/null 2>&1; then
  ids=$(docker ps -q --filter label=com.hashicorp.nomad.alloc_id)
  if [ -n "$ids" ]; then echo "stopping containers: $ids"; docker stop $ids; else echo 'no allocation containers running'; fi
else echo 'docker is not installed: no containers to stop'; fi`,
      }),
      command({
        id: 'unmount-alloc',
        notIdempotent: true,
        // /proc/mounts escapes space, tab, newline and backslash as \040 \011 \012 \134
        run: sh`n=0
awk -v p=${`${alloc}/`} 'index($2, p) == 1 { print length($2) " " $2 }' /proc/mounts | sort -rn | cut -d ' ' -f 2- | while IFS= read -r m; do
  m=$(printf '%b' "$(printf '%s' "$m" | sed 's/\\\\\\([0-7][0-7][0-7]\\)/\\\\0\\1/g')")
  echo "unmounting $m"; umount "$m" 2>/dev/null || umount -l "$m"
done
if awk -v p=${`${alloc}/`} 'index($2, p) == 1 { f = 1 } END { exit !f }' /proc/mounts; then echo ${`cairn: mounts under ${alloc} remain`} >&2; exit 1; fi`,
      }),
      command({
        id: 'move-state-aside',
        notIdempotent: true,
        run: sh`ts=$(date +%Y%m%d-%H%M%S)
for d in alloc client; do
  if [ -e ${dataDir}/"$d" ]; then mv ${dataDir}/"$d" ${dataDir}/"$d.cairn-recovered.$ts" && echo ${`moved ${dataDir}/`}"$d to $d.cairn-recovered.$ts"; fi
done`,
      }),
      service({ id: 'start-agent', ...target, enabled: true, state: 'started' }),
    ];
    if (!ctx.bake) {
      steps.push(
        waitReady({
          id: 'wait-health',
          check: httpOk(`${base}/v1/agent/health`),
          what: `nomad at ${base} answers /v1/agent/health with 200`,
          timeoutMs: v.nomad_wait_timeout * 1000,
          onTimeout: logTail('nomad', `${v.nomad_log_dir}/output.log`, `${v.nomad_log_dir}/nomad.log`),
          barrier: true,
        }),
        drain.eligible('eligible-after-recovery'),
      );
    }
    return steps;
  },
});
