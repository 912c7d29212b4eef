// SPDX-License-Identifier: Apache-2.0
// Two renders of one overlay (kustomize 2.0 from kubectl 1.20, kustomize 5 from kubectl
// 1.2x) describe the same objects: compared after removing what legitimately differs
// between the versions (the generators' name hashes, empty maps kustomize 2.0 leaves on
// merged ConfigMaps, the line breaks kustomize 5 puts into long base64 values).
// usage: node render-compare.mjs A.yaml B.yaml
import fs from 'node:fs';
import { parseAllDocuments } from 'yaml';

function clean(o, b64) {
  if (typeof o === 'string') return b64 ? o.replace(/\s/g, '') : o.replace(/-[a-z0-9]{10}$/, '-HASH');
  if (Array.isArray(o)) return o.map((x) => clean(x, false));
  if (!o || typeof o !== 'object') return o;
  const r = {};
  for (const k of Object.keys(o).sort()) {
    const v = clean(o[k], b64 === 'data');
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    r[k] = v;
  }
  return r;
}
function load(file) {
  return parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS()).filter(Boolean)
    .map((o) => clean(o.kind === 'Secret' ? { ...o, data: clean(o.data, 'data') } : o))
    .sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
}
const [a, b] = process.argv.slice(2).map(load);
const ja = a.map((o) => JSON.stringify(o));
const jb = b.map((o) => JSON.stringify(o));
let diff = 0;
for (let i = 0; i < Math.max(ja.length, jb.length); i++) {
  if (ja[i] === jb[i]) continue;
  diff++;
  console.log(`differs: ${a[i] ? `${a[i].kind}/${a[i].metadata.name}` : '-'} vs ${b[i] ? `${b[i].kind}/${b[i].metadata.name}` : '-'}`);
  console.log(`  A: ${(ja[i] || '').slice(0, 400)}\n  B: ${(jb[i] || '').slice(0, 400)}`);
}
console.log(diff ? `render-compare: ${diff} objects differ` : `render-compare: ${ja.length} objects identical`);
process.exit(diff ? 1 : 0);
