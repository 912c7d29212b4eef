// SPDX-License-Identifier: Apache-2.0
// Offline schema check of rendered Kubernetes objects: each document is validated with the
// kubernetes-models validator of its apiVersion/kind (ajv, compiled from the Kubernetes
// OpenAPI schemas). Those schemas allow unknown fields, so k8s-strict.mjs adds the
// TypeScript excess-property check. usage: node k8s-validate.mjs FILE.yaml... | -
import fs from 'node:fs';
import { parseAllDocuments } from 'yaml';

let bad = 0;
let good = 0;
const files = process.argv.slice(2).length ? process.argv.slice(2) : ['-'];
for (const f of files) {
  for (const doc of parseAllDocuments(fs.readFileSync(f === '-' ? 0 : f, 'utf8'))) {
    if (doc.errors.length) {
      console.log(`FAIL ${f}: YAML ${doc.errors[0].message}`);
      bad++;
      continue;
    }
    const o = doc.toJS();
    if (!o) continue;
    const where = `${f}: ${o.kind}/${o.metadata?.name}`;
    let M;
    try {
      M = (await import(`kubernetes-models/${o.apiVersion}/${o.kind}`))[o.kind];
      if (!M) throw new Error('no model');
    } catch {
      console.log(`FAIL ${where}: unknown apiVersion/kind ${o.apiVersion} ${o.kind}`);
      bad++;
      continue;
    }
    try {
      new M(o).validate();
      console.log(`ok   ${where}`);
      good++;
    } catch (e) {
      bad++;
      const why = e.errors ? e.errors.map((x) => `${x.instancePath || '/'} ${x.message}`).join('; ') : e.message;
      console.log(`FAIL ${where}: ${why}`);
    }
  }
}
console.log(`k8s-validate: ${good} passed, ${bad} failed`);
process.exit(bad || !good ? 1 : 0);
