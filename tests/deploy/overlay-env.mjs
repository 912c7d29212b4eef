// SPDX-License-Identifier: Apache-2.0
// What the kubelet would give each container of a rendered overlay: its environment
// (envFrom ConfigMaps and Secrets in order, then env, later entries winning, as Kubernetes
// resolves them; Secret values base64-decoded), its arguments, and its volume mounts with
// the files each holds (Secret and ConfigMap volumes with their keys; emptyDir; projected
// ServiceAccount tokens by path). tests/deploy/test-overlays.sh starts the real daemons
// from this, so nothing about the configuration is retyped by hand.
// Writes OUTDIR/<workload>.json for the Deployments, the Job and the CronJob, and prints a
// digest of each so overlays that render the same configuration are started once.
// usage: node overlay-env.mjs RENDERED.yaml OUTDIR
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

const [file, outdir] = process.argv.slice(2);
const objs = parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS()).filter(Boolean);
const find = (kind, name) => objs.find((o) => o.kind === kind && o.metadata.name === name);
const decode = (v) => Buffer.from(String(v).replace(/\s/g, ''), 'base64').toString('utf8');

function fail(msg) {
  console.error(`overlay-env: ${msg}`);
  process.exit(1);
}

function sourceData(kind, name) {
  const o = find(kind, name);
  if (!o) fail(`${kind} ${name} is referenced but not rendered`);
  if (kind === 'Secret') {
    const out = Object.fromEntries(Object.entries(o.data || {}).map(([k, v]) => [k, decode(v)]));
    return Object.assign(out, o.stringData || {});
  }
  return { ...(o.data || {}) };
}

// The environment, and the names whose value came from a Secret.
function envOf(c, fromSecret) {
  const env = {};
  for (const from of c.envFrom || []) {
    if (from.configMapRef) {
      const d = sourceData('ConfigMap', from.configMapRef.name);
      for (const k of Object.keys(d)) fromSecret.delete(k);
      Object.assign(env, d);
    }
    if (from.secretRef) {
      const d = sourceData('Secret', from.secretRef.name);
      for (const k of Object.keys(d)) fromSecret.add(k);
      Object.assign(env, d);
    }
  }
  for (const e of c.env || []) {
    if ('value' in e) env[e.name] = String(e.value);
    else if (e.valueFrom?.configMapKeyRef) env[e.name] = sourceData('ConfigMap', e.valueFrom.configMapKeyRef.name)[e.valueFrom.configMapKeyRef.key];
    else if (e.valueFrom?.secretKeyRef) env[e.name] = sourceData('Secret', e.valueFrom.secretKeyRef.name)[e.valueFrom.secretKeyRef.key];
    else fail(`env ${e.name}: unsupported valueFrom`);
  }
  return env;
}

function volumeContent(v) {
  if (v.emptyDir) return { type: 'emptyDir' };
  if (v.secret) return { type: 'secret', source: v.secret.secretName, files: sourceData('Secret', v.secret.secretName) };
  if (v.configMap) return { type: 'configMap', source: v.configMap.name, files: sourceData('ConfigMap', v.configMap.name) };
  if (v.projected) {
    const files = {};
    const tokens = [];
    for (const s of v.projected.sources) {
      if (s.serviceAccountToken) tokens.push({ path: s.serviceAccountToken.path, audience: s.serviceAccountToken.audience || '' });
      else if (s.secret) Object.assign(files, sourceData('Secret', s.secret.name));
      else if (s.configMap) Object.assign(files, sourceData('ConfigMap', s.configMap.name));
      else fail(`volume ${v.name}: unsupported projected source`);
    }
    return { type: 'projected', files, tokens };
  }
  return fail(`volume ${v.name}: unsupported type ${Object.keys(v).join(',')}`);
}

function container(owner, tpl, name) {
  const spec = tpl.spec;
  const c = name ? spec.containers.find((x) => x.name === name) : spec.containers[0];
  const mounts = (c.volumeMounts || []).map((m) => {
    const v = (spec.volumes || []).find((x) => x.name === m.name);
    if (!v) fail(`${owner}: mount ${m.name} has no volume`);
    return { mountPath: m.mountPath, readOnly: !!m.readOnly, ...volumeContent(v) };
  });
  const fromSecret = new Set();
  const env = envOf(c, fromSecret);
  return {
    workload: owner,
    container: c.name,
    args: c.args || [],
    env,
    secretKeys: [...fromSecret].sort(),
    mounts,
    ports: Object.fromEntries((c.ports || []).map((p) => [p.name, p.containerPort])),
    serviceAccount: spec.serviceAccountName || '',
  };
}

const workloads = [];
for (const d of objs.filter((o) => o.kind === 'Deployment')) workloads.push([d.metadata.name, d.spec.template]);
for (const j of objs.filter((o) => o.kind === 'Job')) workloads.push([j.metadata.name, j.spec.template]);
for (const c of objs.filter((o) => o.kind === 'CronJob')) workloads.push([c.metadata.name, c.spec.jobTemplate.spec.template]);
fs.mkdirSync(outdir, { recursive: true });
for (const [name, tpl] of workloads) {
  const out = container(name, tpl);
  const text = JSON.stringify(out, null, 1);
  fs.writeFileSync(path.join(outdir, `${name}.json`), text);
  const digest = crypto.createHash('sha256').update(JSON.stringify({ ...out, env: Object.entries(out.env).sort() })).digest('hex');
  console.log(`${name} ${digest.slice(0, 16)}`);
}
