// SPDX-License-Identifier: Apache-2.0
// Every kustomization under k8s/ uses only what kustomize 2.0 knows (the kustomize inside
// kubectl 1.20, Debian 12's kubernetes-client, a CI machine's fallback renderer) and what
// kubectl 1.2x's kustomize 5 still renders the same way: `bases:` for directories and files
// only under `resources:`, `env:` (not `envs:`) in the generators, patches as files
// (patchesStrategicMerge, patchesJson6902 with a full target), and none of `patches:`,
// `components:`, `labels:`, `replacements:`. A strategic-merge patch of a kind kustomize 2.0
// has no schema for (batch/v1 CronJob, CRDs) would replace lists instead of merging them, so
// those kinds must be patched with JSON patches. Rendering with both versions and comparing
// is done by scripts/check-deploy.sh when KUBECTL_COMPAT names a kubectl 1.20.
// usage: node kustomize-compat.mjs K8S_DIR
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

const root = process.argv[2];
const TOP = new Set(['apiVersion', 'kind', 'resources', 'bases', 'namespace', 'namePrefix', 'nameSuffix',
  'commonLabels', 'commonAnnotations', 'images', 'configMapGenerator', 'secretGenerator', 'generatorOptions',
  'patchesStrategicMerge', 'patchesJson6902']);
const GEN = new Set(['name', 'behavior', 'env', 'files', 'literals', 'type']);
const SMP_KINDS = new Set(['Deployment', 'Service', 'Job', 'HorizontalPodAutoscaler', 'PodDisruptionBudget',
  'ConfigMap', 'Secret', 'ServiceAccount', 'NetworkPolicy', 'Namespace']);
let good = 0;
let bad = 0;
function check(name, cond, why = '') {
  if (cond) { good++; console.log(`ok   ${name}`); }
  else { bad++; console.log(`FAIL ${name}${why ? ': ' + why : ''}`); }
}

function kustomizations(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...kustomizations(p));
    else if (e.name === 'kustomization.yaml') out.push(p);
  }
  return out;
}

for (const file of kustomizations(root)) {
  const dir = path.dirname(file);
  const k = parseAllDocuments(fs.readFileSync(file, 'utf8'))[0].toJS();
  const unknown = Object.keys(k).filter((f) => !TOP.has(f));
  check(`${file}: only kustomize 2.0 fields`, unknown.length === 0, unknown.join(','));
  const dirs = (k.resources || []).filter((r) => fs.statSync(path.join(dir, r)).isDirectory());
  check(`${file}: resources are files (directories go under bases)`, dirs.length === 0, dirs.join(','));
  const gens = [...(k.configMapGenerator || []), ...(k.secretGenerator || [])];
  const badGen = gens.filter((g) => Object.keys(g).some((f) => !GEN.has(f)) || (g.env && typeof g.env !== 'string'));
  check(`${file}: generators use name/behavior/env/files/literals only`, badGen.length === 0,
    badGen.map((g) => g.name).join(','));
  const smp = (k.patchesStrategicMerge || []).map((p) => [p, typeof p === 'string' && fs.existsSync(path.join(dir, p))]);
  check(`${file}: strategic-merge patches are files`, smp.every(([, ok]) => ok), smp.filter(([, ok]) => !ok).map(([p]) => String(p)).join(','));
  for (const [p, ok] of smp) {
    if (!ok) continue;
    const kinds = parseAllDocuments(fs.readFileSync(path.join(dir, p), 'utf8')).map((d) => d.toJS()?.kind).filter(Boolean);
    check(`${file}: ${p} patches only kinds kustomize 2.0 merges by schema`, kinds.every((x) => SMP_KINDS.has(x)), kinds.join(','));
  }
  const js = k.patchesJson6902 || [];
  check(`${file}: JSON patches have a full target and a patch file`, js.every((p) =>
    p.target?.version && p.target?.kind && p.target?.name && typeof p.path === 'string' && fs.existsSync(path.join(dir, p.path))));
}
console.log(`kustomize-compat: ${good} passed, ${bad} failed`);
process.exit(bad || !good ? 1 : 0);
