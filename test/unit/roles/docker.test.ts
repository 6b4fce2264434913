import test from 'ava';
import docker, { daemonJson, DEFAULTS } from '../../../roles/docker/index.ts';
import { archInName, infraImage, infraImageProblems } from '../../../roles/docker/infra-image.ts';
import type { Plan } from '../../../src/operations/operation.ts';
import { alpineFacts, debianFacts, roleContext, stepIds, validate } from './_base.ts';

const text = (p: Plan) => (p.kind === 'noop' ? p.reason : p.kind === 'change' ? p.reason : p.message);
const probe = (stdout: string) => ({ command: 'p', durationMs: 0, exitCode: 0, stderr: '', stdout });

test('daemon.json: json-file logs with size limits, extra keys merged over', (t) => {
  t.deepEqual(JSON.parse(daemonJson(DEFAULTS)), { 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m', 'max-file': '3' } });
  t.deepEqual(JSON.parse(daemonJson({ ...DEFAULTS, docker_daemon_extra: { 'storage-driver': 'vfs', 'log-driver': 'local' } }))['log-driver'], 'local');
  t.true(daemonJson(DEFAULTS).endsWith('}\n'));
});

test('infra_image: rendered for the node arch; a name for another arch is refused', (t) => {
  t.is(infraImage(DEFAULTS, debianFacts), 'registry.k8s.io/pause-arm64:3.3');
  t.is(infraImage(DEFAULTS, alpineFacts), 'registry.k8s.io/pause-amd64:3.3');
  t.is(infraImage({ nomad_infra_image: 'registry.k8s.io/pause-{arch}:3.3' }, debianFacts), 'registry.k8s.io/pause-arm64:3.3', "the nomad role's {arch} form");
  t.is(archInName('gcr.io/google_containers/pause-amd64:3.0'), 'amd64');
  t.is(archInName('registry.k8s.io/pause:3.9'), undefined);
  t.is(archInName('docker.io/arm64v8/alpine:3.19'), undefined, 'arm64v8 is a namespace, not -arm64');
  t.regex(infraImageProblems('gcr.io/google_containers/pause-amd64:3.0', 'arm64')[0]!, /is the amd64 image, but this host is arm64: .*cannot join network of a non running container/);
  t.deepEqual(infraImageProblems('registry.k8s.io/pause:3.9', 'arm64'), []);
  t.regex(infraImageProblems('Not An Image', 'arm64')[0]!, /not a docker image reference/);
});

test('steps: the infra image name is checked first, before anything is installed', (t) => {
  t.deepEqual(stepIds(docker, roleContext(docker, {}, debianFacts)), ['infra-image-arch', 'available', 'packages', 'etc', 'daemon-json', 'service', 'running', 'infra-image-cache']);
  t.deepEqual(stepIds(docker, roleContext(docker, { docker_service_state: 'stopped' }, alpineFacts)), ['infra-image-arch', 'available', 'packages', 'etc', 'daemon-json', 'service', 'infra-image-cache']);
  const steps = docker.steps(roleContext(docker, { nomad_infra_image: 'gcr.io/google_containers/pause-amd64:3.0' }, debianFacts));
  t.is(steps[0]!.plan(undefined, { host: 'h1', facts: debianFacts, bake: false }).kind, 'fail');
});

test('a cached wrong-arch infra image is removed; the right one or none is left alone', (t) => {
  const op = docker.steps(roleContext(docker, { nomad_infra_image: 'registry.k8s.io/pause:3.9' }, debianFacts)).at(-1)!;
  const ctx = { host: 'h1', facts: debianFacts, bake: false };
  const wrong = op.plan(probe('\n@@cairn:arch\namd64\n'), ctx);
  t.is(wrong.kind, 'change');
  t.is(text(wrong), 'remove the cached amd64 copy of registry.k8s.io/pause:3.9 (host is arm64; docker would never pull it again)');
  t.regex(text(op.plan(probe('\n@@cairn:arch\narm64\n'), ctx)), /is cached for arm64/);
  t.regex(text(op.plan(probe('\n@@cairn:arch\nabsent\n'), ctx)), /not cached yet/);
  t.regex(text(op.plan(probe(''), ctx)), /docker does not answer/);
});

test('vars are validated', (t) => {
  t.deepEqual(validate(docker, {}), []);
  const all = validate(docker, { docker_log_max_size: '10 MB', docker_log_max_file: 0, docker_service_state: 'running', nomad_infra_image: 'x:{{nope}}' })
    .map((p) => p.message)
    .join('\n');
  t.regex(all, /docker_log_max_size must be a size such as 10m/);
  t.regex(all, /docker_log_max_file must be a positive integer/);
  t.regex(all, /docker_service_state must be one of started, stopped/);
  t.regex(all, /nomad_infra_image cannot be rendered/);
});
