// Built-in role `artifacts`: the Nomad and Consul binaries for each host's
// (libc, arch), fetched once by the controller (sha256-verified, cached),
// uploaded, verified again on the host, installed atomically, then `<bin>
// version` checked. Vars: docs/roles-nomad-consul.md#artifacts.
import { artifact, defineRole, fail, failStep, noop, sh, type InputProblem, type Operation, type Plan } from 'cairn-provision';
import { parseArtifacts, pickArtifact, PRODUCTS, type Product } from './lookup.ts';

const DEFAULTS = {
  artifacts_products: ['nomad', 'consul'],
  nomad_bin: '/usr/local/bin/nomad',
  consul_bin: '/usr/local/bin/consul',
};

function products(vars: Record<string, unknown>): Product[] {
  const p = vars.artifacts_products;
  return Array.isArray(p) ? (p.filter((x) => (PRODUCTS as readonly string[]).includes(String(x))) as Product[]) : [];
}

/** After install: `<bin> version` must name `<product>_version` (when set). Not in bake mode. */
function versionCheck(id: string, bin: string, product: Product, version: string | undefined): Operation {
  return {
    kind: 'version',
    id,
    barrier: true,
    probe: (ctx) => (ctx.bake ? undefined : sh`if [ -x ${bin} ]; then ${bin} version 2>&1 </dev/null | head -n 3; else echo 'cairn: absent'; fi`),
    plan(probe, ctx): Plan {
      if (ctx.bake) return noop('bake mode: the binary is not run');
      const out = probe?.stdout.trim() ?? '';
      if (out === 'cairn: absent') return fail(`${bin} is not installed`);
      const first = out.split('\n')[0] ?? '';
      if (!version) return noop(`${bin}: ${first}`);
      const v = version.replace(/^v/, '');
      if (new RegExp(`\\bv?${v.replace(/[.+]/g, (c) => `\\${c}`)}\\b`).test(out)) return noop(`${bin}: ${first}`);
      return fail(`${bin} version says '${first}', but ${product}_version is ${version}: the artifact is another version; fix ${product}_artifacts or ${product}_version`);
    },
  };
}

export default defineRole({
  name: 'artifacts',
  description: 'Nomad and Consul binaries per (libc, arch), verified and installed atomically',
  defaults: DEFAULTS,
  validate(ctx) {
    const problems: InputProblem[] = [];
    const seen = new Set<string>();
    const add = (p: InputProblem) => {
      const k = `${p.location.file}:${p.location.line}:${p.message}`;
      if (!seen.has(k)) {
        seen.add(k);
        problems.push(p);
      }
    };
    for (const host of ctx.hostsWithRole) {
      const vars = ctx.varsFor(host);
      const raw = vars.artifacts_products;
      if (!Array.isArray(raw) || raw.some((x) => !(PRODUCTS as readonly string[]).includes(String(x)))) {
        add({ location: ctx.locate(host, 'artifacts_products'), message: `artifacts_products must be a list of nomad and/or consul, got ${JSON.stringify(raw)}`, fix: 'e.g. artifacts_products: [nomad, consul]' });
        continue;
      }
      for (const product of products(vars)) {
        for (const b of [`${product}_bin`]) {
          const v = vars[b];
          if (typeof v !== 'string' || !/^\/[A-Za-z0-9_.\/+@-]+$/.test(v)) add({ location: ctx.locate(host, b), message: `${b} must be an absolute path, got ${JSON.stringify(v)}`, fix: `e.g. ${b}: /usr/local/bin/${product}` });
        }
        const { problems: ps } = parseArtifacts(product, vars, ctx.inventory.dir);
        for (const p of ps) add({ location: ctx.locate(host, p.varPath), message: p.message, fix: p.fix });
      }
    }
    return problems;
  },
  steps(ctx) {
    const ops: Operation[] = [];
    for (const product of products(ctx.vars)) {
      const bin = String(ctx.vars[`${product}_bin`]);
      const { entries, problems } = parseArtifacts(product, ctx.vars, ctx.inventory.dir);
      if (problems.length) {
        ops.push(failStep(product, 'artifact', problems.map((p) => p.message).join('; ')));
        continue;
      }
      const picked = pickArtifact(product, entries, ctx.facts, ctx.host.name);
      if ('error' in picked) {
        ops.push(failStep(product, 'artifact', picked.error));
        continue;
      }
      ops.push(
        artifact({
          id: product,
          dest: bin,
          mode: '0755',
          owner: 'root',
          group: 'root',
          ...(picked.file !== undefined ? { file: picked.file } : { url: picked.url! }),
          sha256: picked.sha256 ?? { sumsFile: picked.sums!, name: picked.sumsName! },
          ...(picked.member ? { extract: { member: picked.member } } : {}),
          ...(picked.arch ? { arch: picked.arch } : {}),
          versionCommand: ['version'],
        }),
      );
      const version = ctx.vars[`${product}_version`];
      ops.push(versionCheck(`${product}-version`, bin, product, version === undefined ? undefined : String(version)));
    }
    return ops;
  },
});
