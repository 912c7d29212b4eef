// SPDX-License-Identifier: Apache-2.0
// The promises of the deployment docs about the rendered manifests, checked on every overlay
// (issues 5 and 17): probes on /health and /ready, non-root read-only containers without
// privilege escalation, requests and limits set, termination grace longer than preStop +
// SHUTDOWN_GRACE_MS, sms-extraction reachable only inside the cluster, HPAs on CPU at 50 %
// with scale-down stabilisation and no spec.replicas beside them, no migrate init container
// but a pre-deploy migrate Job, a maintain CronJob and a monitor CronJob, PDBs with maxUnavailable 1, HPA
// minReplicas >= 2 outside dev, topology spread by zone and node, app.kubernetes.io labels, a
// ServiceAccount, metrics Services on the admin ports selected by a ServiceMonitor or
// PodMonitor, alert rules with a runbook_url each, config from hashed generated
// ConfigMaps/Secrets, a default-deny NetworkPolicy; and in prod: LAUNCH_ENVIRONMENT=prod,
// sealed artifacts from S3 only, verify-full with PGSSLROOTCERT on a mounted Secret, and the
// web identity token file on a projected ServiceAccount token.
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
const secrets = Object.fromEntries(byKind('Secret').map((o) => [o.metadata.name, o]));
const L = 'app.kubernetes.io/';

// Every pod template: Deployments, the Job, the CronJob's job template.
function podSpecs() {
  const out = [];
  for (const d of byKind('Deployment')) out.push([d, d.spec.template]);
  for (const j of byKind('Job')) out.push([j, j.spec.template]);
  for (const c of byKind('CronJob')) out.push([c, c.spec.jobTemplate.spec.template]);
  return out;
}
const configOf = (c) => cms[(c.envFrom || []).map((e) => e.configMapRef?.name).find(Boolean)] || {};

// A path inside one of the container's mounts, and the volume behind it.
function mountedVolume(spec, c, path) {
  const m = (c.volumeMounts || []).find((v) => path.startsWith(v.mountPath.replace(/\/?$/, '/')));
  return m && (spec.volumes || []).find((v) => v.name === m.name);
}

for (const d of byKind('Deployment')) {
  const n = d.metadata.name;
  const spec = d.spec.template.spec;
  const c = spec.containers[0];
  check(`${n} liveness GET /health`, c.livenessProbe?.httpGet?.path === '/health');
  check(`${n} readiness GET /ready`, c.readinessProbe?.httpGet?.path === '/ready');
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
  const hpa = byKind('HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === n);
  check(`${n} has an HPA and no spec.replicas beside it`, !!hpa && d.spec.replicas === undefined,
    `replicas ${d.spec.replicas}`);
  check(`${n} no init containers (migrations run as a Job)`, !(spec.initContainers || []).length,
    (spec.initContainers || []).map((i) => i.name).join(','));
  const keys = (spec.topologySpreadConstraints || []).map((t) => t.topologyKey);
  check(`${n} topology spread by zone and by node`,
    keys.includes('topology.kubernetes.io/zone') && keys.includes('kubernetes.io/hostname'), keys.join(','));
  check(`${n} maxUnavailable 0 rollout`, d.spec.strategy?.rollingUpdate?.maxUnavailable === 0);
}

for (const [o, tpl] of podSpecs()) {
  const n = `${o.kind}/${o.metadata.name}`;
  const spec = tpl.spec;
  for (const c of spec.containers) {
    const sc = c.securityContext || {};
    check(`${n} ${c.name} read-only root, no privilege escalation, caps dropped`,
      sc.readOnlyRootFilesystem === true && sc.allowPrivilegeEscalation === false && sc.capabilities?.drop?.includes('ALL'));
    check(`${n} ${c.name} requests and limits`, ['cpu', 'memory'].every((r) => c.resources?.requests?.[r] && c.resources?.limits?.[r]));
  }
  check(`${n} runs as non-root`, spec.securityContext?.runAsNonRoot === true && spec.securityContext?.runAsUser > 0);
  check(`${n} ServiceAccount exists, no API token mounted`,
    byKind('ServiceAccount').some((s) => s.metadata.name === spec.serviceAccountName) && spec.automountServiceAccountToken === false);
  check(`${n} app.kubernetes.io labels on the object and its pods`,
    ['name', 'part-of', 'component', 'instance'].every((k) => o.metadata.labels?.[L + k] && tpl.metadata.labels?.[L + k]));
}

// The migration: a pre-deploy Job, never part of a serving pod; maintenance: a CronJob.
const migrate = byKind('Job').find((j) => (j.spec.template.spec.containers[0].args || []).join(' ') === 'migrate');
check('a migrate Job (insights-api migrate)', !!migrate);
if (migrate) {
  const pl = migrate.spec.template.metadata.labels || {};
  check('migrate Job pods are not selected by the insights-api Service, HPA or PDB', pl[L + 'name'] !== 'insights-api');
  check('migrate Job uses insights-api config and Secret', !!configOf(migrate.spec.template.spec.containers[0]).DI_POSTGRES_HOST);
  check('migrate Job: restartPolicy Never, bounded retries and time',
    migrate.spec.template.spec.restartPolicy === 'Never' && migrate.spec.backoffLimit >= 1 && migrate.spec.activeDeadlineSeconds > 0);
}
const maintain = byKind('CronJob').find((c) => (c.spec.jobTemplate.spec.template.spec.containers[0].args || []).join(' ') === 'maintain');
check('a maintain CronJob (insights-api maintain), never concurrent', !!maintain && maintain?.spec.concurrencyPolicy === 'Forbid');
const monitorJob = byKind('CronJob').find((c) => (c.spec.jobTemplate.spec.template.spec.containers[0].args || [])[0] === 'monitor');
const monitorArgs = (monitorJob?.spec.jobTemplate.spec.template.spec.containers[0].args || []).join(' ');
check('a monitor CronJob (insights-api monitor, a rolling window, gauges pushed), never concurrent',
  monitorJob?.spec.concurrencyPolicy === 'Forbid' && /--since \d+d\b/.test(monitorArgs) && /--push \S+/.test(monitorArgs), monitorArgs);
for (const d of byKind('Deployment').filter((x) => x.metadata.name === 'insights-api'))
  check('insights-api leaves maintenance to the CronJob (MAINTAIN_INTERVAL_SECONDS=0)',
    configOf(d.spec.template.spec.containers[0]).MAINTAIN_INTERVAL_SECONDS === '0');

for (const s of byKind('Service')) {
  const metrics = s.metadata.labels?.[L + 'component'] === 'metrics';
  if (s.metadata.name === 'sms-extraction') check('sms-extraction Service is ClusterIP', (s.spec.type || 'ClusterIP') === 'ClusterIP');
  if (metrics) {
    check(`${s.metadata.name} metrics Service: ClusterIP, admin port only`,
      (s.spec.type || 'ClusterIP') === 'ClusterIP' && s.spec.ports.every((p) => p.name === 'admin'));
  } else {
    check(`${s.metadata.name} Service does not expose the admin port`, !s.spec.ports.some((p) => p.name === 'admin'));
  }
}
// Prometheus Operator: a ServiceMonitor selecting both metrics Services (or a PodMonitor).
const monitors = [...byKind('ServiceMonitor'), ...byKind('PodMonitor')];
check('a ServiceMonitor or PodMonitor', monitors.length > 0);
for (const name of ['insights-api', 'sms-extraction']) {
  const svc = byKind('Service').find((s) => s.metadata.labels?.[L + 'component'] === 'metrics' && s.spec.selector?.[L + 'name'] === name);
  const selected = svc && byKind('ServiceMonitor').some((m) =>
    Object.entries(m.spec.selector.matchLabels || {}).every(([k, v]) => svc.metadata.labels?.[k] === v) &&
    m.spec.endpoints.some((e) => e.port === 'admin'));
  const podMon = byKind('PodMonitor').some((m) => m.spec.podMetricsEndpoints?.some((e) => e.port === 'admin'));
  check(`${name} metrics scraped on the admin port by a ServiceMonitor/PodMonitor`, !!selected || podMon);
}
const rules = byKind('PrometheusRule').flatMap((r) => r.spec.groups.flatMap((g) => g.rules)).filter((r) => r.alert);
check('PrometheusRule alerts, each with a runbook_url into docs/runbooks.md', rules.length > 0 &&
  rules.every((r) => /^docs\/runbooks\.md#[a-z0-9-]+$/.test(r.annotations?.runbook_url || '')),
  rules.filter((r) => !r.annotations?.runbook_url).map((r) => r.alert).join(','));

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
const smsxNp = np.find((p) => p.spec.podSelector?.matchLabels?.[L + 'name'] === 'sms-extraction');
check('only insights-api reaches sms-extraction:8082', !!smsxNp && smsxNp.spec.ingress.filter((r) => r.ports.some((p) => p.port === 8082))
  .every((r) => r.from?.length && r.from.every((f) => f.podSelector?.matchLabels?.[L + 'name'] === 'insights-api' && !f.namespaceSelector)));
// The Pushgateway port (9091) only for the monitor CronJob's pods (and HTTPS, for the references in S3).
const isMonitorNp = (p) => p.spec.podSelector?.matchLabels?.[L + 'name'] === 'insights-api-monitor';
const egressPorts = new Set(np.filter((p) => !isMonitorNp(p)).flatMap((p) => (p.spec.egress || []).flatMap((r) => (r.ports || [{ port: 'any' }]).map((x) => x.port))));
check('egress only DNS, PostgreSQL, MongoDB, HTTPS and sms-extraction',
  [...egressPorts].every((p) => [53, 5432, 27017, 443, 8082].includes(p)), [...egressPorts].join(','));
const monNp = np.filter(isMonitorNp);
check('monitor pods: egress to the Pushgateway port 9091 and HTTPS 443 (S3 references) only, no ingress', monNp.length === 1 &&
  !monNp[0].spec.ingress && monNp[0].spec.egress.every((r) => r.ports?.length && r.ports.every((p) => p.port === 9091 || p.port === 443)));
const jobNp = np.find((p) => (p.spec.podSelector?.matchExpressions || []).some((e) => e.values?.includes('insights-api-migrate')));
check('migrate/maintain pods: a NetworkPolicy with no ingress, PostgreSQL egress',
  !!jobNp && !jobNp.spec.ingress && jobNp.spec.egress.some((r) => r.ports.some((p) => p.port === 5432)));

// prod: what makes LAUNCH_ENVIRONMENT=prod start (the overlay test starts it for real).
if (!dev) {
  for (const [o, tpl] of podSpecs()) {
    const spec = tpl.spec;
    const c = spec.containers[0];
    const cfg = configOf(c);
    const n = `${o.kind}/${o.metadata.name}`;
    check(`${n} LAUNCH_ENVIRONMENT=prod`, cfg.LAUNCH_ENVIRONMENT === 'prod');
    const mode = cfg.DI_POSTGRES_SSLMODE || cfg.DB_SSLMODE;
    const ca = cfg.PGSSLROOTCERT || '';
    const caVol = mountedVolume(spec, c, ca);
    check(`${n} sslmode verify-full with PGSSLROOTCERT on a mounted Secret`,
      mode === 'verify-full' && !!caVol?.secret && !!secrets[caVol.secret.secretName], `${mode} ${ca}`);
  }
  for (const d of byKind('Deployment')) {
    const spec = d.spec.template.spec;
    const c = spec.containers[0];
    const cfg = configOf(c);
    const arts = Object.entries(cfg).filter(([k]) => /(_PATH|_MAPPING_PATH)$/.test(k) && !/^SPOOL/.test(k));
    check(`${d.metadata.name} every artifact is a sealed S3 object`, arts.length > 0 &&
      arts.every(([, v]) => /^s3:\/\/[^/]+\/.+\.enc$/.test(v)), arts.map(([k, v]) => `${k}=${v}`).join(' '));
    const tok = mountedVolume(spec, c, cfg.AWS_WEB_IDENTITY_TOKEN_FILE || '');
    check(`${d.metadata.name} web identity token file on a projected ServiceAccount token for STS`,
      !!cfg.AWS_ROLE_ARN && !!tok?.projected?.sources?.some((s) => s.serviceAccountToken?.audience === 'sts.amazonaws.com'));
  }
}
console.log(`k8s-policy ${overlay}: ${good} passed, ${bad} failed`);
process.exit(bad ? 1 : 0);
