// SPDX-License-Identifier: Apache-2.0
// Offline schema check of rendered Kubernetes objects: each document is validated with the
// kubernetes-models validator of its apiVersion/kind (ajv, compiled from the Kubernetes
// OpenAPI schemas). Those schemas allow unknown fields, so k8s-strict.mjs adds the
// TypeScript excess-property check. The Prometheus Operator kinds (monitoring.coreos.com)
// come from @kubernetes-models/prometheus-operator, compiled from its CRDs the same way.
// usage: node k8s-validate.mjs FILE.yaml... | -
import fs from 'node:fs';
import { parseAllDocuments } from 'yaml';

// The package holding the model of an apiVersion: core kinds, or a CRD package.
function modelModule(apiVersion, kind) {
  const pkg = apiVersion.startsWith('monitoring.coreos.com/')
    ? '@kubernetes-models/prometheus-operator'
    : 'kubernetes-models';
  return `${pkg}/${apiVersion}/${kind}`;
}

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
    // kustomize 5 wraps long base64 values of generated Secrets at 76 columns; the API
    // server's base64 decoder (Go's) skips the line breaks, the schema's "byte" format does
    // not: validate the value as the server reads it.
    if (o.kind === 'Secret' && o.data)
      for (const k of Object.keys(o.data)) o.data[k] = String(o.data[k]).replace(/\s/g, '');
    const where = `${f}: ${o.kind}/${o.metadata?.name}`;
    let M;
    try {
      M = (await import(modelModule(o.apiVersion, o.kind)))[o.kind];
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
