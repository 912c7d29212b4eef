// SPDX-License-Identifier: Apache-2.0
// The promises of issue 5 about the rendered manifests, checked on every overlay: probes on
// /health and /ready, non-root read-only containers without privilege escalation, requests
// and limits set, termination grace longer than preStop + SHUTDOWN_GRACE_MS, sms-extraction
// reachable only inside the cluster, HPAs on CPU at 50 % with scale-down stabilisation,
// PDBs with maxUnavailable 1, at least 2 replicas outside dev, scrape annotations, config
// from hashed generated ConfigMaps/Secrets, and a default-deny NetworkPolicy.
// usage: node k8s-policy.mjs OVERLAY_NAME RENDERED.yaml
import fs from 'node:fs';
import { parseAllDocuments } from 'yaml';

const [overlay, file] = process.argv.slice(2);
const objs = parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS()).filter(Boolean);
const dev = overlay === 'dev' || overlay === 'base';
let good = 0;
let bad = 0;
function check(name, cond, why = '') {
  if (cond) { good++; console.log(`ok   ${overlay}: ${name}`); }
  else { bad++; console.log(`FAIL ${overlay}: ${name}${why ? ': ' + why : ''}`); }
}
const byKind = (k) => objs.filter((o) => o.kind === k);
const cms = Object.fromEntries(byKind('ConfigMap').map((o) => [o.metadata.name, o.data || {}]));

for (const d of byKind('Deployment')) {
  const n = d.metadata.name;
  const spec = d.spec.template.spec;
  const c = spec.containers[0];
  check(`${n} liveness GET /health`, c.livenessProbe?.httpGet?.path === '/health');
  check(`${n} readiness GET /ready`, c.readinessProbe?.httpGet?.path === '/ready');
  const sc = c.securityContext || {};
  check(`${n} read-only root, no privilege escalation, caps dropped`,
    sc.readOnlyRootFilesystem === true && sc.allowPrivilegeEscalation === false && sc.capabilities?.drop?.includes('ALL'));
  check(`${n} runs as non-root`, spec.securityContext?.runAsNonRoot === true && spec.securityContext?.runAsUser > 0);
  check(`${n} requests and limits`, ['cpu', 'memory'].every((r) => c.resources?.requests?.[r] && c.resources?.limits?.[r]));
  const cmName = (c.envFrom || []).map((e) => e.configMapRef?.name).find(Boolean);
  const secName = (c.envFrom || []).map((e) => e.secretRef?.name).find(Boolean);
  check(`${n} config from hashed generated ConfigMap and Secret`,
    /-[a-z0-9]{10}$/.test(cmName || '') && /-[a-z0-9]{10}$/.test(secName || '') && cms[cmName]);
  const grace = (cms[cmName] || {}).SHUTDOWN_GRACE_MS;
  const pre = c.lifecycle?.preStop?.exec?.command;
  const preS = pre && pre[0] === 'sleep' ? Number(pre[1]) : 0;
  check(`${n} termination grace > preStop + SHUTDOWN_GRACE_MS`,
    grace !== undefined && spec.terminationGracePeriodSeconds * 1000 > Number(grace) + preS * 1000,
    `grace ${spec.terminationGracePeriodSeconds}s, preStop ${preS}s, SHUTDOWN_GRACE_MS ${grace}`);
  const ann = d.spec.template.metadata.annotations || {};
  const admin = c.ports.find((p) => p.name === 'admin')?.containerPort;
  check(`${n} prometheus scrape annotations on the admin port`,
    ann['prometheus.io/scrape'] === 'true' && Number(ann['prometheus.io/port']) === admin && (cms[cmName] || {}).ADMIN_PORT === String(admin));
  if (!dev) check(`${n} replicas >= 2`, d.spec.replicas >= 2, `replicas ${d.spec.replicas}`);
}
for (const s of byKind('Service')) {
  if (s.metadata.name === 'sms-extraction') check('sms-extraction Service is ClusterIP', (s.spec.type || 'ClusterIP') === 'ClusterIP');
  check(`${s.metadata.name} Service does not expose the admin port`, !s.spec.ports.some((p) => p.name === 'admin'));
}
for (const h of byKind('HorizontalPodAutoscaler')) {
  const n = h.metadata.name;
  check(`${n} HPA autoscaling/v2 on CPU 50%`, h.apiVersion === 'autoscaling/v2' &&
    h.spec.metrics.some((m) => m.resource?.name === 'cpu' && m.resource.target.averageUtilization === 50));
  check(`${n} HPA scale-down stabilisation`, h.spec.behavior?.scaleDown?.stabilizationWindowSeconds > 0);
  check(`${n} HPA min <= max`, h.spec.minReplicas <= h.spec.maxReplicas);
  if (!dev) check(`${n} HPA minReplicas >= 2`, h.spec.minReplicas >= 2);
  const dep = byKind('Deployment').find((d) => d.metadata.name === h.spec.scaleTargetRef.name);
  check(`${n} HPA targets an existing Deployment`, !!dep);
}
for (const p of byKind('PodDisruptionBudget')) check(`${p.metadata.name} PDB maxUnavailable 1`, p.spec.maxUnavailable === 1);
check('two PDBs', byKind('PodDisruptionBudget').length === 2);
const np = byKind('NetworkPolicy');
check('default-deny NetworkPolicy', np.some((p) => Object.keys(p.spec.podSelector || {}).length === 0 &&
  p.spec.policyTypes.includes('Ingress') && p.spec.policyTypes.includes('Egress') && !p.spec.ingress && !p.spec.egress));
const smsxNp = np.find((p) => p.spec.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'sms-extraction');
check('only insights-api reaches sms-extraction:8082', !!smsxNp && smsxNp.spec.ingress.filter((r) => r.ports.some((p) => p.port === 8082))
  .every((r) => r.from?.length && r.from.every((f) => f.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'insights-api' && !f.namespaceSelector)));
const egressPorts = new Set(np.flatMap((p) => (p.spec.egress || []).flatMap((r) => (r.ports || [{ port: 'any' }]).map((x) => x.port))));
check('egress only DNS, PostgreSQL, MongoDB, HTTPS and sms-extraction',
  [...egressPorts].every((p) => [53, 5432, 27017, 443, 8082].includes(p)), [...egressPorts].join(','));
console.log(`k8s-policy ${overlay}: ${good} passed, ${bad} failed`);
process.exit(bad ? 1 : 0);
