// Built-in role `docker`: the docker engine for Nomad's docker driver: the
// distribution package, /etc/docker/daemon.json (log size limits), the service
// enabled and started, and the arch of Nomad's infra (pause) image.
// Vars and behaviour: docs/roles-host.md.
import {
  PACKAGE_NAME,
  ShellCommand,
  boolean,
  change,
  checkVars,
  defineRole,
  directory,
  fail,
  file,
  isMap,
  noop,
  oneOf,
  packages,
  packagesAvailable,
  parseSections,
  restartService,
  section,
  service,
  sh,
  stringList,
  stubFacts,
  type Operation,
  type Plan,
  type VarProblem,
  type Vars,
} from 'cairn-provision';
import { DEFAULT_INFRA_IMAGE, infraImage, infraImageProblems } from './infra-image.ts';

export { DEFAULT_INFRA_IMAGE, infraImage } from './infra-image.ts';

export const DEFAULTS = {
  docker_packages: { alpine: ['docker'], debian: ['docker.io'] } as Readonly<Record<string, string[]>>,
  docker_update_cache: true,
  /** json-file logs are rotated at this size ... */
  docker_log_max_size: '10m',
  /** ... keeping this many files per container. */
  docker_log_max_file: 3,
  /** More daemon.json keys, merged over cairn's (e.g. { "storage-driver": "overlay2" }). */
  docker_daemon_extra: {} as Record<string, unknown>,
  /** started: enabled and running (checked with `docker info`); stopped: enabled only. */
  docker_service_state: 'started',
  /** Nomad's docker infra_image (shared with the nomad role); {{facts.arch}} is the node's arch. */
  nomad_infra_image: DEFAULT_INFRA_IMAGE,
};

/** The vars of the role, as validate() leaves them. */
export type DockerVars = typeof DEFAULTS;

/** daemon.json as cairn writes it (pure). */
export function daemonJson(vars: DockerVars): string {
  const config: Record<string, unknown> = {
    'log-driver': 'json-file',
    'log-opts': { 'max-size': vars.docker_log_max_size, 'max-file': String(vars.docker_log_max_file) },
    ...vars.docker_daemon_extra,
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function dockerVarProblems(vars: Vars): VarProblem[] {
  const out: VarProblem[] = [];
  const pk = vars.docker_packages;
  if (!isMap(pk)) out.push({ var: 'docker_packages', message: `must be a map of OS family to package list, got ${JSON.stringify(pk)}`, fix: 'e.g. docker_packages: { alpine: [docker], debian: [docker.io] }' });
  else for (const [family, list] of Object.entries(pk)) out.push(...stringList(`docker_packages.${family}`, list, PACKAGE_NAME, '[docker.io]'));
  out.push(...boolean('docker_update_cache', vars.docker_update_cache));
  if (typeof vars.docker_log_max_size !== 'string' || !/^\d+[kmg]?$/.test(vars.docker_log_max_size)) {
    out.push({ var: 'docker_log_max_size', message: `must be a size such as 10m, got ${JSON.stringify(vars.docker_log_max_size)}`, fix: 'e.g. docker_log_max_size: 10m' });
  }
  const maxFile = vars.docker_log_max_file;
  if (typeof maxFile !== 'number' || !Number.isInteger(maxFile) || maxFile < 1) {
    out.push({ var: 'docker_log_max_file', message: `must be a positive integer, got ${JSON.stringify(vars.docker_log_max_file)}`, fix: 'e.g. docker_log_max_file: 3' });
  }
  if (!isMap(vars.docker_daemon_extra)) out.push({ var: 'docker_daemon_extra', message: `must be a map of daemon.json keys, got ${JSON.stringify(vars.docker_daemon_extra)}`, fix: "e.g. docker_daemon_extra: { 'storage-driver': overlay2 }" });
  out.push(...oneOf('docker_service_state', vars.docker_service_state, ['started', 'stopped']));
  if (typeof vars.nomad_infra_image !== 'string' || vars.nomad_infra_image.trim() === '') {
    out.push({ var: 'nomad_infra_image', message: `must be an image name, got ${JSON.stringify(vars.nomad_infra_image)}`, fix: `e.g. nomad_infra_image: '${DEFAULT_INFRA_IMAGE}'` });
  } else {
    // render for the stand-in hosts (amd64, arm64): a fixed wrong arch shows on one of them
    for (const facts of stubFacts) {
      let image: string;
      try {
        image = infraImage(vars, facts);
      } catch (err) {
        out.push({ var: 'nomad_infra_image', message: `cannot be rendered: ${(err as Error).message}`, fix: 'only {{facts.arch}} and other vars may be used in it' });
        break;
      }
      const p = infraImageProblems(image, 'unknown');
      if (p.length) {
        out.push({ var: 'nomad_infra_image', message: p.join('; '), fix: `e.g. nomad_infra_image: '${DEFAULT_INFRA_IMAGE}'` });
        break;
      }
    }
  }
  return out;
}

/** The infra image's name must match the host's arch: checked first, before anything is installed. */
function infraImageName(image: string): Operation {
  return {
    kind: 'dockerImage',
    id: 'infra-image-arch',
    probe: () => undefined,
    plan(_probe, ctx): Plan {
      const problems = infraImageProblems(image, ctx.facts.arch);
      if (problems.length) return fail(`nomad_infra_image ${problems.join('; ')}`);
      return noop(`nomad_infra_image ${image} is not named for another arch than ${ctx.facts.arch}`);
    },
  };
}

/**
 * A copy of the infra image already in docker's cache must be of the host's arch:
 * docker never pulls a cached name again, so a wrong-arch copy would stay forever.
 * Such a copy is removed, so the right one is pulled on first use.
 */
function infraImageCache(image: string, running: boolean): Operation {
  return {
    kind: 'dockerImage',
    id: 'infra-image-cache',
    barrier: true,
    probe(ctx) {
      if (ctx.bake || !running) return undefined;
      return sh`if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
${section('arch', sh`docker image inspect --format '{{.Architecture}}' ${image} 2>/dev/null || echo absent`)}
fi`;
    },
    plan(probe, ctx): Plan {
      if (ctx.bake || !running) return noop(`nomad_infra_image ${image}: docker is not running here, its cache was not checked`);
      const s = parseSections(probe?.stdout ?? '');
      if (!s.has('arch')) return noop(`nomad_infra_image ${image}: docker does not answer, its cache was not checked`);
      const cached = s.get('arch')?.trim();
      if (cached === 'absent') return noop(`nomad_infra_image ${image}: not cached yet, docker pulls the ${ctx.facts.arch} image on first use`);
      if (cached === ctx.facts.arch) return noop(`nomad_infra_image ${image} is cached for ${cached}`);
      return change(`remove the cached ${cached} copy of ${image} (host is ${ctx.facts.arch}; docker would never pull it again)`, [sh`docker image rm ${image}`]);
    },
  };
}

/** The last lines dockerd logged (journald or OpenRC's /var/log/docker.log). */
function dockerLogs(init: string) {
  // dockerd's own lines (not systemd's about the unit), after journald wrote what it has
  return init === 'systemd'
    ? sh`{ journalctl --sync 2>/dev/null; journalctl _SYSTEMD_UNIT=docker.service --no-pager -n 8 -o cat 2>/dev/null; }`
    : sh`tail -n 8 /var/log/docker.log 2>/dev/null`;
}

/** dockerd answers `docker info`; when it does not within a minute, the failure shows its last log lines. */
function running(id: string, init: string): Operation {
  return {
    kind: 'wait',
    id,
    barrier: true,
    probe: (ctx) => (ctx.bake ? undefined : sh`if docker info >/dev/null 2>&1; then echo ready; else echo waiting; fi`),
    plan(probe, ctx): Plan {
      if (ctx.bake) return noop('bake mode: dockerd is not started');
      if (probe?.stdout.trim() === 'ready') return noop('dockerd answers docker info');
      return change('wait for dockerd to answer docker info (up to 60s)', [
        sh`i=0
while ! docker info >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -ge 60 ]; then
    echo 'dockerd does not answer docker info after 60s; its last log lines:' >&2
    ${dockerLogs(init)} >&2 || :
    exit 1
  fi
  sleep 1
done`,
      ]);
    },
  };
}

/** The restart handler, whose failure shows dockerd's own last log lines (not only "see journalctl"). */
function restartWithLogs(init: string): Operation {
  const inner = restartService({ id: 'restart', name: 'docker' });
  return {
    ...inner,
    plan(probe, ctx): Plan {
      const p = inner.plan(probe, ctx);
      if (p.kind !== 'change') return p;
      const cmds = p.commands.map((c) =>
        c instanceof ShellCommand ? sh`${c} || { echo 'dockerd did not come back after the restart; its last log lines:' >&2; ${dockerLogs(init)} >&2 || :; exit 1; }` : c,
      );
      return { ...p, commands: cmds };
    },
  };
}

export default defineRole({
  name: 'docker',
  description: 'docker engine for the Nomad docker driver: package, daemon.json, service, infra image arch',
  defaults: DEFAULTS,
  validate: (ctx) => checkVars('docker', ctx, (vars) => dockerVarProblems(vars)),
  steps(ctx) {
    const v = ctx.vars;
    const family = ctx.facts.os.family;
    const names = family === 'unknown' ? [] : (v.docker_packages[family] ?? []);
    const started = v.docker_service_state === 'started';
    const hint =
      family === 'alpine'
        ? "Alpine ships docker in its community repository: add a .../community line to /etc/apk/repositories (or mirror the package for offline hosts); cairn's offline Alpine test repository has no docker"
        : 'Debian ships docker.io in main; check /etc/apt/sources.list and run apt-get update';
    const image = infraImage(v, ctx.facts);
    const steps: Operation[] = [infraImageName(image)];
    if (names.length === 0) {
      steps.push({ kind: 'packages', id: 'available', probe: () => undefined, plan: () => fail(`docker_packages has no list for OS family '${family}'`) });
      return steps;
    }
    steps.push(
      packagesAvailable({ id: 'available', names, hint }),
      packages({ id: 'packages', names, state: 'present', update: v.docker_update_cache === true }),
      directory({ id: 'etc', path: '/etc/docker', mode: '0755' }),
      file({ id: 'daemon-json', path: '/etc/docker/daemon.json', mode: '0644', content: daemonJson(v), notify: ['restart docker'] }),
      service({ id: 'service', name: 'docker', enabled: true, state: started ? 'started' : 'stopped' }),
    );
    if (started) steps.push(running('running', ctx.facts.init));
    steps.push(infraImageCache(image, started));
    return steps;
  },
  // restart, then check dockerd answers with the new daemon.json (a bad key stops it)
  handlers: (ctx) => ({
    'restart docker': ctx.vars.docker_service_state === 'started' ? [restartWithLogs(ctx.facts.init), running('running-after-restart', ctx.facts.init)] : [restartWithLogs(ctx.facts.init)],
  }),
});

