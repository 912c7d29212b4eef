// SPDX-License-Identifier: Apache-2.0
// Strict (unknown-field) check of rendered Kubernetes objects. The ajv validators accept
// unknown fields (a typo such as `replica:` passes), so every document is written into a
// TypeScript file as a literal typed with the kubernetes-models interface of its kind, and
// `tsc --noEmit` reports each excess property ("'replica' does not exist in type ...").
// TypeScript reports one excess property per literal per run, so each document gets its
// own literal. usage: node k8s-strict.mjs WORKDIR FILE.yaml... | -
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { parseAllDocuments } from 'yaml';

const require = createRequire(import.meta.url);
const [work, ...args] = process.argv.slice(2);
const files = args.length ? args : ['-'];
fs.mkdirSync(work, { recursive: true });
const imports = new Map();
const lines = [];
let n = 0;
for (const f of files) {
  for (const doc of parseAllDocuments(fs.readFileSync(f === '-' ? 0 : f, 'utf8'))) {
    const o = doc.toJS();
    if (!o) continue;
    const mod = o.apiVersion.startsWith('monitoring.coreos.com/')
      ? `@kubernetes-models/prometheus-operator/${o.apiVersion}/${o.kind}`
      : `kubernetes-models/${o.apiVersion}/${o.kind}`;
    const type = `I${o.kind}`;
    const alias = `${type}_${o.apiVersion.replace(/[^A-Za-z0-9]/g, '_')}`;
    imports.set(alias, `import type { ${type} as ${alias} } from "${mod}";`);
    lines.push(`// ${f}: ${o.kind}/${o.metadata?.name}`);
    lines.push(`export const d${n++}: ${alias} = ${JSON.stringify(o, null, 2)};`);
  }
}
fs.writeFileSync(path.join(work, 'objects.ts'), [...imports.values(), ...lines].join('\n') + '\n');
fs.writeFileSync(
  path.join(work, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: {
      strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext',
      target: 'es2022', skipLibCheck: true, types: [],
      typeRoots: [], baseUrl: '.',
      paths: {
        'kubernetes-models/*': [path.join(path.dirname(require.resolve('kubernetes-models/package.json')), '*')],
        '@kubernetes-models/prometheus-operator/*': [
          path.join(path.dirname(require.resolve('@kubernetes-models/prometheus-operator/package.json')), '*')],
      },
    },
    files: ['objects.ts'],
  }),
);
const tsc = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', work], { stdio: 'pipe' });
  console.log(`k8s-strict: ${n} objects, no unknown fields`);
} catch (e) {
  process.stdout.write(e.stdout.toString());
  console.log(`k8s-strict: FAIL (${n} objects)`);
  process.exit(1);
}
if (!n) process.exit(1);
