/**
 * Nomad's docker driver `infra_image` (the pause container of every bridge-mode
 * group) must match the node's arch: the old default pause-amd64 broke arm64 with
 * "cannot join network of a non running container" (hashicorp/nomad#8926), and a
 * wrong-arch image already cached is never pulled again. The var is shared by
 * the docker role (which checks the cached image) and the nomad role (which
 * writes it into the client's docker plugin config): import these from there.
 */
import { renderTemplateSource, type Facts, type Vars } from 'cairn-provision';

/** The default: Kubernetes' pause image for the node's arch (what newer Nomad defaults to). */
export const DEFAULT_INFRA_IMAGE = 'registry.k8s.io/pause-{{facts.arch}}:3.3';

/** Image references docker accepts (registry/path:tag or @digest), after rendering. */
const IMAGE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;
const KNOWN_ARCHES = ['amd64', 'arm64', 'arm', '386', 'ppc64le', 's390x', 'riscv64'];

/**
 * `nomad_infra_image` rendered for this host: `{{facts.arch}}` (and other vars) as a
 * template, and the nomad role's short form `{arch}` too, so one value serves both roles.
 */
export function infraImage(vars: Vars, facts: Facts): string {
  const raw = String(vars.nomad_infra_image ?? DEFAULT_INFRA_IMAGE).replace(/(?<!\{)\{arch\}(?!\})/g, facts.arch);
  return renderTemplateSource(raw, 'var nomad_infra_image', { ...vars, facts }).text.trim();
}

/** Problems with a rendered image name for a host of `arch` (empty: fine). */
export function infraImageProblems(image: string, arch: string): string[] {
  if (!IMAGE.test(image)) return [`"${image}" is not a docker image reference`];
  const named = archInName(image);
  if (named && arch !== 'unknown' && named !== arch) {
    return [`"${image}" is the ${named} image, but this host is ${arch}: bridge-mode allocations would fail with "cannot join network of a non running container"; use {{facts.arch}} in the name, e.g. ${DEFAULT_INFRA_IMAGE}`];
  }
  return [];
}

/** The arch an image name is built for, when the name says it (pause-arm64, .../amd64/pause). */
export function archInName(image: string): string | undefined {
  const path = image.replace(/@sha256:.*$/, '').replace(/:[\w][\w.-]*$/, '');
  for (const a of KNOWN_ARCHES) {
    if (new RegExp(`(?:[-_/])${a}(?:$|[-_/])`).test(path)) return a;
  }
  return undefined;
}
